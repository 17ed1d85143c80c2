//! The attribute keeps visibility, docs and other attributes, works inside functions, and
//! lets generic functions and `impl Trait` arguments through.
mod files {
    use parallel::parallel;

    /// Public, documented, and `#[inline]`.
    #[inline]
    #[parallel(threads = 2)]
    pub fn fetch(name: String) -> usize {
        name.len()
    }

    #[allow(unused_mut)]
    #[parallel]
    pub(crate) fn total(mut values: Vec<u64>, (a, b): (u64, u64)) -> u64 {
        values.push(a + b);
        values.iter().sum()
    }

    #[parallel]
    pub fn show(value: impl std::fmt::Display + Send + 'static) -> String {
        value.to_string()
    }
}

fn main() {
    #[parallel::parallel]
    fn nested(x: i32) -> i32 {
        x + 1
    }
    assert_eq!(files::fetch("abc".into()).result(), Ok(3));
    assert_eq!(files::fetch::sync("abcd".into()), 4);
    assert_eq!(files::total(vec![1], (2, 3)).result(), Ok(6));
    assert_eq!(files::show(5).result().unwrap(), "5");
    assert_eq!(nested(1).result(), Ok(2));
    let pointer: fn(String) -> parallel::Future<usize> = files::fetch;
    assert_eq!(pointer("x".into()).result(), Ok(1));
}
