//! Plans one day for 1,000,000 registrations spread over 50 municipalities: programme stage,
//! content lookup and message composition (the daily fan-out's pure work).
//!
//! Run: `cargo bench -p kizuna-core --bench plan_day` (results in docs/benchmarks.md).
//! Content is the sample pack from `content/`, plus 49 synthetic municipalities that copy
//! きずな町's overlay (notes, birthdays) under their own names.

use chrono::{Days, NaiveDate};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use kizuna_core::content::{ContentLibrary, MunicipalityContent, SourceFile};
use kizuna_core::plan::plan_household;
use kizuna_core::{
    EndReason, Household, LineUserId, MunicipalityId, Registration, RegistrationStatus, Subject,
};
use std::path::Path;

const REGISTRATIONS: usize = 1_000_000;
const MUNICIPALITIES: usize = 50;

/// A small deterministic generator (SplitMix64), so every run plans the same households.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

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
                    .into_owned(),
                text: std::fs::read_to_string(&path).expect("utf-8"),
            });
        }
    }
}

fn library() -> (ContentLibrary, Vec<MunicipalityId>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let mut files = Vec::new();
    read_files(&root, &root, &mut files);
    let town: Vec<SourceFile> = files
        .iter()
        .filter(|f| f.path.starts_with("municipalities/kizuna-town/"))
        .cloned()
        .collect();
    let mut ids = vec![MunicipalityId::parse("kizuna-town").expect("id")];
    for n in 1..MUNICIPALITIES {
        let id = format!("town-{n:02}");
        for f in &town {
            let text = if f.path.ends_with("/municipality.toml") {
                format!("display_name = \"サンプル{n}町\"\n")
            } else {
                f.text.clone()
            };
            files.push(SourceFile {
                path: f.path.replace("kizuna-town", &id),
                text,
            });
        }
        ids.push(MunicipalityId::parse(&id).expect("id"));
    }
    let library = ContentLibrary::from_files(files).unwrap_or_else(|d| panic!("{d:?}"));
    (library, ids)
}

/// Households holding exactly `REGISTRATIONS` registrations: mostly one each, some two
/// (a pregnancy and an older child, or siblings); due and birth dates spread so that some are
/// before, inside and after their programme on `today`; a few twins, losses, stops and pauses.
fn households(today: NaiveDate, ids: &[MunicipalityId]) -> Vec<(usize, Household)> {
    let mut rng = Rng(0x6b69_7a75_6e61);
    let user = LineUserId::parse("U4af4980629a0b1c2d3e4f5a6b7c8d9e0").expect("id");
    let mut out = Vec::new();
    let mut total = 0;
    while total < REGISTRATIONS {
        let m = rng.below(MUNICIPALITIES as u64) as usize;
        let mut h = Household::new(ids[m].clone(), user.clone());
        let count = if rng.below(10) == 0 { 2 } else { 1 }.min(REGISTRATIONS - total);
        for id in 1..=count as u32 {
            let subject = if rng.below(100) < 45 {
                // Gestational day −30 ..= 320 today.
                let gestational = rng.below(351) as i64 - 30;
                let due = today + chrono::TimeDelta::days(280 - gestational);
                Subject::Pregnancy { due_date: due }
            } else {
                // Born 0 ..= 1,200 days ago.
                Subject::Child {
                    birth_date: today - Days::new(rng.below(1201)),
                    due_date: None,
                }
            };
            let status = match rng.below(100) {
                0 => RegistrationStatus::Ended {
                    reason: EndReason::Loss,
                    on: today,
                },
                1 | 2 => RegistrationStatus::Ended {
                    reason: EndReason::StoppedByParent,
                    on: today,
                },
                _ => RegistrationStatus::Active,
            };
            h.registrations.push(Registration {
                id,
                subject,
                baby_count: if rng.below(50) == 0 { 2 } else { 1 },
                status,
                registered_on: today - Days::new(rng.below(400)),
            });
        }
        h.paused = rng.below(50) == 0;
        total += count;
        out.push((m, h));
    }
    out
}

fn plan_day(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2027, 5, 10).expect("date");
    let (library, ids) = library();
    let contents: Vec<MunicipalityContent<'_>> =
        ids.iter().map(|id| library.for_municipality(id)).collect();
    let households = households(today, &ids);

    // Sanity: the work being measured is real (how many pushes and objects a day makes).
    let plans: Vec<_> = households
        .iter()
        .map(|(m, h)| plan_household(h, today, &contents[*m]))
        .collect();
    let sent = plans.iter().filter(|p| !p.is_empty()).count();
    let objects: usize = plans.iter().map(|p| p.messages.len()).sum();
    drop(plans);
    eprintln!(
        "{} households, {REGISTRATIONS} registrations: {sent} pushes, {objects} message objects",
        households.len()
    );

    // The machine is shared: besides criterion's wall-clock figure, report the throughput per
    // second of CPU time this thread actually got (Linux schedstat, nanoseconds on CPU).
    if let Some(before) = thread_cpu_ns() {
        let passes = 5;
        let wall = std::time::Instant::now();
        for _ in 0..passes {
            for (m, h) in &households {
                black_box(plan_household(
                    black_box(h),
                    black_box(today),
                    &contents[*m],
                ));
            }
        }
        let wall = wall.elapsed().as_secs_f64();
        if let Some(after) = thread_cpu_ns() {
            let cpu = (after - before) as f64 / 1e9;
            let regs = (passes * REGISTRATIONS) as f64;
            eprintln!(
                "{passes} passes: {:.2} M registrations/s per CPU-second ({:.2} M/s wall, on CPU {:.0}% of the time)",
                regs / cpu / 1e6,
                regs / wall / 1e6,
                100.0 * cpu / wall
            );
        }
    }

    let mut group = c.benchmark_group("plan_day");
    group.sample_size(10);
    group.throughput(Throughput::Elements(REGISTRATIONS as u64));
    group.bench_function("1M registrations / 50 municipalities", |b| {
        b.iter(|| {
            let mut objects = 0usize;
            for (m, h) in &households {
                let plan = plan_household(black_box(h), black_box(today), &contents[*m]);
                objects += plan.messages.len();
            }
            black_box(objects)
        })
    });
    group.finish();
}

/// Nanoseconds this thread has spent on a CPU (first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

criterion_group!(benches, plan_day);
criterion_main!(benches);
