//! The Dockerfile's build stage copies everything the build reads: the files the compiler embeds
//! (`include_bytes!`, `include_str!`, `sqlx::migrate!`), what `build.rs` watches, and the manifest's
//! own target paths. A missing `COPY` fails `docker build` only where docker runs; this fails here.

mod common;

use std::path::{Component, Path, PathBuf};

use common::source::rust_files;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The project paths the build stage copies (the sources of its `COPY` lines, up to the first
/// `FROM` after the first one).
fn copied_by_build_stage() -> Vec<PathBuf> {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let mut stages = 0;
    let mut copied = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with("FROM ") {
            stages += 1;
            continue;
        }
        if stages != 1 {
            continue;
        }
        let Some(arguments) = line.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = arguments
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        // The last word is the destination.
        if let Some((_, sources)) = words.split_last() {
            copied.extend(sources.iter().map(|s| normalize(Path::new(s))));
        }
    }
    assert!(
        !copied.is_empty(),
        "no COPY in the Dockerfile's build stage"
    );
    copied
}

/// `path` without `.` and with `..` applied (lexically; the files need not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                assert!(out.pop(), "{} leaves the project", path.display());
            }
            other => out.push(other),
        }
    }
    out
}

fn is_copied(path: &Path, copied: &[PathBuf]) -> bool {
    copied.iter().any(|c| path.starts_with(c))
}

/// The first string literal after each `marker` in `text`.
fn literals_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let open = rest.find('"')?;
            let close = rest[open + 1..].find('"')?;
            Some(&rest[open + 1..open + 1 + close])
        })
        .collect()
}

/// Every project path the compiler or the build script reads, relative to the project root.
fn read_by_build() -> Vec<(PathBuf, String)> {
    let mut read = Vec::new();
    for file in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let relative = file.strip_prefix(root()).unwrap().to_path_buf();
        let dir = relative.parent().unwrap();
        let why = |what: &str| format!("{what} in {}", relative.display());
        // Relative to the source file.
        for marker in ["include_bytes!(", "include_str!("] {
            for literal in literals_after(&text, marker) {
                read.push((normalize(&dir.join(literal)), why(marker)));
            }
        }
        // Relative to the manifest directory.
        for literal in literals_after(&text, "sqlx::migrate!(") {
            read.push((normalize(Path::new(literal)), why("sqlx::migrate!")));
        }
    }
    let build = std::fs::read_to_string(root().join("build.rs")).unwrap();
    for (at, marker) in build.match_indices("cargo:rerun-if-changed=") {
        let rest = &build[at + marker.len()..];
        let watched = &rest[..rest.find('"').unwrap()];
        read.push((normalize(Path::new(watched)), "build.rs".to_owned()));
    }
    // Target and path-dependency paths (`path = "src/lib.rs"`).
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for literal in literals_after(&manifest, "\npath = ") {
        read.push((normalize(Path::new(literal)), "Cargo.toml".to_owned()));
    }
    for file in ["Cargo.toml", "Cargo.lock", "build.rs"] {
        read.push((PathBuf::from(file), "cargo".to_owned()));
    }
    read
}

#[test]
fn the_build_stage_copies_every_path_the_build_reads() {
    let copied = copied_by_build_stage();
    let read = read_by_build();
    // The scan itself must see the embedded catalog and the migrations, or it proves nothing.
    for expected in [
        "static",
        "migrations/sqlite",
        "migrations/postgres",
        "src/main.rs",
    ] {
        assert!(
            read.iter().any(|(p, _)| p.starts_with(expected)),
            "the scan missed {expected}: {read:?}"
        );
    }
    let missing: Vec<String> = read
        .iter()
        .filter(|(path, _)| !is_copied(path, &copied))
        .map(|(path, why)| format!("{} ({why})", path.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "the Dockerfile's build stage does not copy: {missing:?} (it copies {copied:?})"
    );
    for (path, why) in &read {
        assert!(
            root().join(path).exists(),
            "{} ({why}) does not exist",
            path.display()
        );
    }
}

#[test]
fn the_runtime_stage_ships_the_packs_it_serves() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let runtime = dockerfile.rsplit("\nFROM ").next().unwrap();
    assert!(
        runtime.contains("COPY packs /opt/packyard/packs"),
        "the image must carry the shipped packs"
    );
    assert!(root().join("packs/cni-calico-3.24.6/pack.json").exists());
}
