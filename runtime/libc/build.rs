//! Compiles the libc's thin C layer (`c/*.c`: the variadic functions, which stable Rust
//! cannot define) into the crate, so it ends up in `libunik.a`.
//!
//! The host unit tests leave it out (feature `host-test`, which only the crate's own
//! dev-dependency turns on): there it would replace the host glibc's `printf` in the
//! test binary, and its Rust back end is not compiled under `cfg(test)`.

use std::path::PathBuf;

fn main() {
    if std::env::var_os("CARGO_FEATURE_HOST_TEST").is_some() {
        return;
    }
    let manifest_directory = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let include_directory = manifest_directory.join("../../sysroot/include");
    let sources = [
        "c/variadic.c",
        "c/syscall.c",
        "c/personality.c",
        "c/files.c",
        "c/scanf.c",
        "c/readiness.c",
        "c/net.c",
    ];
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
