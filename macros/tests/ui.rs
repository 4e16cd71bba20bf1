//! Compile-time behaviour of the macros: what must build, and the exact error messages for
//! what must not (`tests/ui/fail/*.stderr`; regenerate with `TRYBUILD=overwrite` and read
//! every changed message before committing it).
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
