use parallel::parallel;
use std::rc::Rc;

#[parallel]
fn share(items: Vec<u8>) -> Rc<Vec<u8>> {
    Rc::new(items)
}

fn main() {}
