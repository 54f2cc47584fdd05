//! Embeds every Fluent file under the repository's `locales/<language>/<feature>.ftl` into the
//! binary (a generated list of `include_str!`s), so a feature adds its texts by adding a file —
//! no Rust list to edit — and the server needs no files beside it at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../locales");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let languages = std::fs::read_dir(&root).expect("locales/ next to the crates");
    for lang in languages.flatten() {
        println!("cargo:rerun-if-changed={}", lang.path().display());
        let Ok(entries) = std::fs::read_dir(lang.path()) else {
            continue;
        };
        for f in entries.flatten() {
            let path = f.path();
            if path.extension().is_some_and(|e| e == "ftl") {
                println!("cargo:rerun-if-changed={}", path.display());
                let language = lang.file_name().to_string_lossy().into_owned();
                let feature = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let abs = path.canonicalize().expect("readable locale file");
                files.push((language, feature, abs));
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// Every locale file: (language, feature, Fluent source).\npub static FILES: &[(&str, &str, &str)] = &[\n",
    );
    for (language, feature, abs) in files {
        let _ = writeln!(
            out,
            "    ({language:?}, {feature:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("locales.rs");
    std::fs::write(dest, out).expect("write locales.rs");
}
