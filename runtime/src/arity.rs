//! The one table of arities: every family of per-arity items (submitting a call of a
//! `#[parallel]` function, encoding an argument tuple, calling a function with a tuple,
//! zipping `pmap!`'s iterables) is generated from it, so no arity is written out twice.

/// Calls the macro `$family` with one entry per arity, 0 to 12: the arity, the names of the
/// items made for it (`[submitN zipN pmapN]`, each family takes the one it makes), then the
/// type and value names of its arguments: `N [submitN zipN pmapN] (A0 a0, A1 a1, ..);`.
macro_rules! arities {
    ($family:ident) => {
        $family! {
            0 [submit0 zip0 pmap0] ();
            1 [submit1 zip1 pmap1] (A0 a0);
            2 [submit2 zip2 pmap2] (A0 a0, A1 a1);
            3 [submit3 zip3 pmap3] (A0 a0, A1 a1, A2 a2);
            4 [submit4 zip4 pmap4] (A0 a0, A1 a1, A2 a2, A3 a3);
            5 [submit5 zip5 pmap5] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4);
            6 [submit6 zip6 pmap6] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5);
            7 [submit7 zip7 pmap7] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6);
            8 [submit8 zip8 pmap8] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7);
            9 [submit9 zip9 pmap9] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8);
            10 [submit10 zip10 pmap10] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9);
            11 [submit11 zip11 pmap11] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10);
            12 [submit12 zip12 pmap12] (A0 a0, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10, A11 a11);
        }
    };
}

pub(crate) use arities;
