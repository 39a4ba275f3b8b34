//! Real, widely used C programs built with their own, unchanged build systems and
//! `CC=<target>-unik-cc`, booted, and compared with the same sources built by the
//! host's gcc. The sources come from Debian source packages at test time
//! (`apt-get source`; `.ci/install` adds the deb-src line and dpkg-dev) and are
//! never committed. When a source cannot be fetched the test prints
//! `skipped: …` and returns.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Fetches and unpacks a Debian source package once per build directory; returns
/// the unpacked tree, or why it could not.
fn debian_source(package: &str, directory_prefix: &str) -> Result<PathBuf, String> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("debian-sources")
        .join(package);
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&cache)
            .ok()?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .find(|path| {
                path.is_dir()
                    && path
                        .file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with(directory_prefix))
            })
    };
    if let Some(tree) = find() {
        return Ok(tree);
    }
    // Unpack beside, then move into place: a half-fetched tree is never reused.
    let partial = cache.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|error| error.to_string())?;
    let fetched = Command::new("apt-get")
        .args(["source", "-q", package])
        .current_dir(&partial)
        .output()
        .map_err(|error| format!("cannot run apt-get: {error}"))?;
    if !fetched.status.success() {
        return Err(format!(
            "`apt-get source {package}` failed (a deb-src line and dpkg-dev are needed: bash .ci/install): {}",
            String::from_utf8_lossy(&fetched.stderr).trim()
        ));
    }
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::rename(&partial, &cache).map_err(|error| error.to_string())?;
    find().ok_or_else(|| {
        format!("`apt-get source {package}` unpacked no {directory_prefix}* directory")
    })
}

/// A fresh copy of a source tree to build in.
fn copy_tree(source: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).expect("a directory");
    let status = Command::new("cp")
        .arg("-r")
        .arg(source)
        .arg(into)
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp -r {source:?}");
    into.join(source.file_name().expect("a directory name"))
}

fn run_in(
    directory: &Path,
    program: &str,
    arguments: &[&str],
    environment: &[(&str, String)],
) -> Outcome {
    let mut command = Command::new(program);
    command.args(arguments).current_dir(directory);
    for (key, value) in environment {
        command.env(key, value);
    }
    run_command(&mut command)
}

fn assert_succeeded(outcome: &Outcome, what: &str) {
    assert_eq!(
        outcome.status, 0,
        "{what} failed:\n{}\n{}",
        outcome.stdout, outcome.stderr
    );
}

/// `unik install-links` into `directory`; returns a function naming a tool.
fn tool_links(directory: &Path) -> impl Fn(&str, &str) -> String + use<> {
    let outcome = run_command(unik().arg("install-links").arg(directory));
    assert_succeeded(&outcome, "unik install-links");
    let directory = directory.to_path_buf();
    move |target, tool| {
        directory
            .join(format!("{target}-unik-{tool}"))
            .display()
            .to_string()
    }
}

/// zlib (Debian's `zlib`): its own `./configure` (which probes the compiler,
/// finds no shared library support and builds the static library) and Makefile,
/// then its `example` program: compress/uncompress, gzip files written and read
/// back through the RAM file system, inflate/deflate streams, dictionaries.
#[test]
fn zlib_configure_make_and_example() {
    let source = match debian_source("zlib", "zlib-") {
        Ok(source) => source,
        Err(reason) => {
            println!("skipped: zlib: {reason}");
            return;
        }
    };
    let dir = scratch();
    let tool = tool_links(&dir.path().join("bin"));

    let native_tree = copy_tree(&source, &dir.path().join("native"));
    let native_environment = [("CC", "gcc".to_string())];
    assert_succeeded(
        &run_in(
            &native_tree,
            "./configure",
            &["--static"],
            &native_environment,
        ),
        "native ./configure",
    );
    assert_succeeded(
        &run_in(&native_tree, "make", &["example"], &native_environment),
        "native make",
    );
    let native = run_command(Command::new(native_tree.join("example")).current_dir(&native_tree));
    assert_succeeded(&native, "native example");
    assert!(
        native
            .stdout
            .contains("inflate with dictionary: hello, hello!")
    );

    for target in targets() {
        let tree = copy_tree(&source, &dir.path().join(target));
        // As a user would run it: no --static; configure finds out by itself.
        let environment = [("CC", tool(target, "cc")), ("AR", tool(target, "ar"))];
        let configured = run_in(&tree, "./configure", &[], &environment);
        assert_succeeded(&configured, &format!("./configure on {target}"));
        assert!(
            configured.stdout.contains("Building static library libz.a"),
            "{}",
            configured.stdout
        );
        assert_succeeded(
            &run_in(&tree, "make", &["example", "minigzip"], &environment),
            &format!("make on {target}"),
        );
        let outcome = boot(&tree.join("example"), &[], &[]);
        assert_same_as_native(&outcome, &native, &format!("zlib example on {target}"));
    }
}

/// A Lua program exercising the interpreter: tables, strings and patterns, number
/// formatting, integer and float arithmetic, the math library, errors through
/// `pcall` (setjmp/longjmp), coroutines, utf8, `load`.
const LUA_SCRIPT: &str = r#"
local t = {}
for i = 1, 10 do t[i] = i * i end
print(table.concat(t, ","))
print(string.format("%5.2f %d %s %q", math.pi, 2^10 // 1, tostring(1/0), "a\nb"))
print(math.sqrt(2), math.floor(-3.5), math.fmod(7, 3), math.fmod(7.5, 2), math.huge, -math.huge, 7 // 2, 7 % -3, 2^0.5)
print(math.sin(1), math.cos(1), math.tan(0.5), math.asin(0.5), math.atan(1, 2), math.exp(1), math.log(10), math.log(8, 2), math.log(100, 10))
print(math.tointeger(3.0), math.ult(1, -1), math.abs(math.mininteger), math.max(3, 7.5, -1), math.min(2, -0.5))
print(pcall(error, "boom"))
print(pcall(function() local x = nil; return x.y end))
local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
print(co(1), co(10))
print(string.rep("ab", 3, "-"), ("hello"):upper(), ("%d items"):format(3), #"unik")
print(string.gsub("hello world", "(o)", "[%1]"), string.find("unikernel", "k(er)"), string.byte("A"))
local keys = {} for k in pairs({x=1, y=2, z=3}) do keys[#keys+1] = k end table.sort(keys) print(table.concat(keys, " "))
print(utf8.char(72, 228, 8364), utf8.len("häll€"))
print(0x7fffffffffffffff + 1 == math.mininteger, 1e308 * 10, -0.0, 3 | 5, 3 ~ 5, ~0, 1 << 62)
print(tostring(nil), tonumber("0x1p4"), tonumber("  12  "), tonumber("1e2"), 10 / 3, 2^53 + 1)
print(os.time{year=2020, month=1, day=1, hour=0} ~= nil, type(os.clock()), os.getenv("UNIK_NO_SUCH_VARIABLE"))
print(load("return 1 + ...")(41))
print(string.format("%g %g %.3f %a %x %5s|%-5s|", 1e20, 0.1, 2/3, 1.0, 255, "r", "l"))
local fib = {} local function f(n) if n < 2 then return n end if fib[n] then return fib[n] end local v = f(n-1) + f(n-2) fib[n] = v return v end
print(f(80), collectgarbage("count") > 0)
"#;

/// Lua 5.4 (Debian's `lua5.4`, the upstream tarball in it with its own Makefile):
/// `make generic` with CC, AR and RANLIB set; the interpreter runs a script given
/// with `-e` and a script that fails. Lua's os library calls `system`, which a
/// unikernel cannot have, so the link gets `--stub-missing` through the Makefile's
/// own MYLDFLAGS (`os.execute` then fails with ENOSYS; the script does not call it).
#[test]
fn lua_make_and_scripts() {
    let source = match debian_source("lua5.4", "lua5.4-") {
        Ok(source) => source,
        Err(reason) => {
            println!("skipped: lua5.4: {reason}");
            return;
        }
    };
    // Debian's tree carries upstream's tarball beside it; build from that, as
    // Lua's own build system ships it (Debian's patches replace it by libtool).
    let tarball = std::fs::read_dir(source.parent().expect("the cache directory"))
        .expect("the cache directory")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with(".orig.tar.gz"))
        .expect("lua5.4's .orig.tar.gz");
    let dir = scratch();
    let tool = tool_links(&dir.path().join("bin"));
    let unpack = |into: &Path| -> PathBuf {
        std::fs::create_dir_all(into).expect("a directory");
        let status = Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .current_dir(into)
            .status()
            .expect("tar runs");
        assert!(status.success());
        into.join("lua-5.4.4")
    };

    let native_tree = unpack(&dir.path().join("native"));
    assert_succeeded(
        &run_in(&native_tree, "make", &["generic", "CC=gcc"], &[]),
        "native make",
    );
    let native_lua = native_tree.join("src/lua");
    let native = run_command(Command::new(&native_lua).args(["-e", LUA_SCRIPT]));
    assert_succeeded(&native, "native lua");
    let native_failure = run_command(Command::new(&native_lua).args(["-e", "error('no luck')"]));

    for target in targets() {
        let tree = unpack(&dir.path().join(target));
        let variables = [
            "generic".to_string(),
            format!("CC={}", tool(target, "cc")),
            format!("AR={} rcu", tool(target, "ar")),
            format!("RANLIB={}", tool(target, "ranlib")),
            "MYLDFLAGS=--stub-missing".to_string(),
        ];
        let variables: Vec<&str> = variables.iter().map(String::as_str).collect();
        let built = run_in(&tree, "make", &variables, &[]);
        assert_succeeded(&built, &format!("make on {target}"));
        let image = tree.join("src/lua");
        let outcome = boot(&image, &[], &["-e", LUA_SCRIPT]);
        assert_same_as_native(&outcome, &native, &format!("lua on {target}"));
        let failure = boot(&image, &[], &["-e", "error('no luck')"]);
        assert_eq!(failure.status, native_failure.status, "{failure:?}");
        assert!(
            failure.stderr.contains("(command line):1: no luck"),
            "{failure:?}"
        );
    }
}
