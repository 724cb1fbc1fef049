//! What a cold function spends turning the content pack into a library, without the S3 reads:
//! parsing and validating the TOML files (the fallback) against decoding the compiled
//! artifact (`kizuna content sync` writes it; see `content::compiled`).
//!
//! Run: `cargo bench -p kizuna-core --bench content_load -- --warm-up-time 1 --measurement-time 3`
//! (results in docs/benchmarks.md, "Content load"). Content is the sample pack from `content/`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use kizuna_core::content::{ContentLibrary, SourceFile};
use std::path::Path;

fn read_files(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
    for entry in std::fs::read_dir(dir).expect("content dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            read_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(SourceFile {
                path: path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/"),
                text: std::fs::read_to_string(&path).expect("utf-8"),
            });
        }
    }
}

fn content_load(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let mut files = Vec::new();
    read_files(&root, &root, &mut files);
    let source_bytes: usize = files.iter().map(|f| f.text.len()).sum();
    let library = ContentLibrary::from_files(files.clone()).expect("the sample pack loads");
    let artifact = library.to_artifact();
    eprintln!(
        "sample pack: {} TOML files, {source_bytes} bytes; compiled artifact: {} bytes",
        files.len(),
        artifact.len()
    );

    let mut group = c.benchmark_group("content_load");
    // What the functions did on every cold start before the artifact (and still do when it
    // is missing or refused): the sender's parse mode.
    group.bench_function("parse_toml_files", |b| {
        b.iter(|| {
            ContentLibrary::from_files_allowing_gaps(black_box(files.clone()))
                .expect("the sample pack loads")
        })
    });
    group.bench_function("decode_artifact", |b| {
        b.iter(|| ContentLibrary::from_artifact(black_box(&artifact)).expect("decodes"))
    });
    group.finish();
}

criterion_group!(benches, content_load);
criterion_main!(benches);
