//! Compiles the libc's thin C layer (`c/*.c`: the variadic functions, which stable Rust
//! cannot define) into the crate, so it ends up in `libunik.a`.
//!
//! Host unit tests do not need it (they never call the C entry points), and a host
//! build of it would export `printf` into the test binary, replacing glibc's: it is
//! built only when the crate is built without `cfg(test)` — which cargo cannot tell a
//! build script — so instead the C symbols are compiled always and the test binary
//! simply does not link them in (nothing references them from the tests).

use std::path::PathBuf;

fn main() {
    let manifest_directory = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let include_directory = manifest_directory.join("../../sysroot/include");
    let sources = ["c/variadic.c"];
    for source in sources {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rerun-if-changed={}", include_directory.display());
    println!("cargo:rerun-if-env-changed=CC");

    // cc picks the compiler (CC, CC_<target>, or the default for TARGET) and passes the
    // target triple; the C layer sees only the sysroot's headers, as user programs do.
    let mut build = cc::Build::new();
    build
        .files(sources)
        .include(&include_directory)
        .flag("-nostdinc")
        .flag("-ffreestanding")
        .flag("-fno-stack-protector")
        .opt_level(2)
        .warnings(true)
        .extra_warnings(true)
        .define("__unik__", "1");
    build.compile("unik_libc_c");
}
