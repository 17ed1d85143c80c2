use parallel::parallel;
use std::rc::Rc;

#[parallel]
fn count(items: Rc<Vec<u8>>) -> usize {
    items.len()
}

fn main() {}
