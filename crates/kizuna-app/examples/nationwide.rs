//! The whole country's morning send jobs under the real limits: prints when the last household
//! is sent. See docs/fanout.md, "Scale", and `kizuna_app::fanout_sim`.
//!
//! `cargo run -p kizuna-app --example nationwide -- [--flag value]…`
//!
//! Every flag can also be given as an environment variable `KIZUNA_SIM_<FLAG>` (upper case,
//! `-` as `_`, e.g. `KIZUNA_SIM_WALL_MS=20`); a flag wins over the variable.
//!
//! | flag | default | meaning |
//! |---|---|---|
//! | `--municipalities` | 1741 | towns |
//! | `--registrations` | 1000000 | registrations in the country |
//! | `--registrations-per-household` | 1 | pushes are per household |
//! | `--exponent` | 1.0 | rank-size exponent of the town sizes |
//! | `--seed` | 1 | the order the scheduler enqueues towns in |
//! | `--hours` | both | `all` (07:00), `spread` (06–09), or `both` |
//! | `--spread-hours` | 6,7,8,9 | the hours of the spread scenario |
//! | `--shards` | fit | `one`, `fit` (each shard fits one invocation) or a number |
//! | `--concurrency` | 5 | the event source's maximum concurrency (template default) |
//! | `--account-concurrency` | 1000 | the account's regional Lambda quota |
//! | `--wall-ms` | 37 | wall time per delivery |
//! | `--cpu-ms` | 0.47 | CPU time per delivery (one full core; measured, docs/benchmarks.md) |
//! | `--memory-mb` | 512 | sender memory (template) |
//! | `--in-flight` | 64 | deliveries in flight per invocation |
//! | `--rate` | 2000 | LINE push requests per second per channel |
//! | `--overhead-ms` | 500 | fixed work per invocation |
//! | `--page-list-ms` | 50 | one page listing (and a resumed page's ledger look-up) |
//! | `--commit-ms` | 30 | one page-commit `TransactWriteItems` (≤ 98 households) |

use kizuna_app::fanout_sim::{
    clock, rank_size_split, simulate, Hours, Outcome, Platform, Scenario, SenderModel, ShardPolicy,
    CPU_PER_DELIVERY_S, MORNING_HOUR, PARTITION_WRITES_PER_S, WALL_PER_DELIVERY_S,
};
use std::collections::HashMap;
use std::process::ExitCode;

const FLAGS: &[&str] = &[
    "municipalities",
    "registrations",
    "registrations-per-household",
    "exponent",
    "seed",
    "hours",
    "spread-hours",
    "shards",
    "concurrency",
    "account-concurrency",
    "wall-ms",
    "cpu-ms",
    "memory-mb",
    "in-flight",
    "rate",
    "overhead-ms",
    "page-list-ms",
    "commit-ms",
];

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> Result<Self, String> {
        let mut values = HashMap::new();
        for flag in FLAGS {
            let var = format!("KIZUNA_SIM_{}", flag.to_uppercase().replace('-', "_"));
            if let Ok(v) = std::env::var(&var) {
                values.insert((*flag).to_owned(), v);
            }
        }
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => (
                    name.to_owned(),
                    args.next().ok_or(format!("--{name} needs a value"))?,
                ),
            };
            if !FLAGS.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name} (see the example's header)"));
            }
            values.insert(name, value);
        }
        Ok(Self(values))
    }

    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: cannot read {v:?}")),
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(all_sent) => {
            if all_sent {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Err(e) => {
            eprintln!("nationwide: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let args = Args::parse()?;
    let defaults = SenderModel::default();
    let model = SenderModel {
        wall_per_delivery_s: args.get("wall-ms", defaults.wall_per_delivery_s * 1e3)? / 1e3,
        cpu_per_delivery_s: args.get("cpu-ms", defaults.cpu_per_delivery_s * 1e3)? / 1e3,
        memory_mb: args.get("memory-mb", defaults.memory_mb)?,
        in_flight: args.get("in-flight", defaults.in_flight)?,
        job_overhead_s: args.get("overhead-ms", defaults.job_overhead_s * 1e3)? / 1e3,
        page_list_s: args.get("page-list-ms", defaults.page_list_s * 1e3)? / 1e3,
        transaction_s: args.get("commit-ms", defaults.transaction_s * 1e3)? / 1e3,
        ..defaults
    };
    let platform_defaults = Platform::default();
    let platform = Platform {
        sender_max_concurrency: args
            .get("concurrency", platform_defaults.sender_max_concurrency)?,
        account_concurrency: args
            .get("account-concurrency", platform_defaults.account_concurrency)?,
        ..platform_defaults
    };
    let base = Scenario::default();
    let shards = match args.get("shards", "fit".to_owned())?.as_str() {
        "one" => ShardPolicy::One,
        "fit" => ShardPolicy::Fit,
        n => ShardPolicy::Fixed(n.parse().map_err(|_| format!("--shards: {n:?}"))?),
    };
    let spread_hours: Vec<u8> = args
        .get("spread-hours", "6,7,8,9".to_owned())?
        .split(',')
        .map(|h| {
            h.trim()
                .parse()
                .map_err(|_| format!("--spread-hours: {h:?}"))
        })
        .collect::<Result<_, _>>()?;
    let scenario = Scenario {
        municipalities: args.get("municipalities", base.municipalities)?,
        registrations: args.get("registrations", base.registrations)?,
        registrations_per_household: args.get(
            "registrations-per-household",
            base.registrations_per_household,
        )?,
        rank_size_exponent: args.get("exponent", base.rank_size_exponent)?,
        seed: args.get("seed", base.seed)?,
        push_rate_per_second: args.get("rate", base.push_rate_per_second)?,
        shards,
        ..base
    };
    let which = args.get("hours", "both".to_owned())?;
    let mut runs = Vec::new();
    if which == "all" || which == "both" {
        runs.push((
            format!("every town at {MORNING_HOUR:02}:00"),
            Hours::All(MORNING_HOUR),
        ));
    }
    if which == "spread" || which == "both" {
        let label = spread_hours
            .iter()
            .map(|h| format!("{h:02}:00"))
            .collect::<Vec<_>>()
            .join(", ");
        runs.push((
            format!("towns spread over {label}"),
            Hours::Spread(spread_hours),
        ));
    }
    if runs.is_empty() {
        return Err(format!("--hours: {which:?} (all, spread or both)"));
    }

    let mut sizes = rank_size_split(
        scenario.registrations,
        scenario.municipalities,
        scenario.rank_size_exponent,
    );
    sizes.sort_unstable();
    println!("Kizuna nationwide fan-out simulation (docs/fanout.md, \"Scale\")");
    println!(
        "towns: {} municipalities, {} registrations, {} per household; rank-size exponent {} \
         (largest {}, median {}, smallest {})",
        scenario.municipalities,
        scenario.registrations,
        scenario.registrations_per_household,
        scenario.rank_size_exponent,
        sizes.last().copied().unwrap_or(0),
        sizes.get(sizes.len() / 2).copied().unwrap_or(0),
        sizes.first().copied().unwrap_or(0),
    );
    let (interval, bound) = model.interval(scenario.push_rate_per_second);
    let source = |used: f64, constant: f64, name: &str| {
        if (used - constant).abs() < 1e-12 {
            format!("fanout_sim::{name}")
        } else {
            "flag".to_owned()
        }
    };
    println!(
        "sender: {} MB = {:.3} vCPU; per delivery {:.1} ms wall ({}), {:.1} ms CPU ({}); {} in \
         flight; LINE {}/s per channel, split over its shards",
        model.memory_mb,
        model.vcpus(),
        model.wall_per_delivery_s * 1e3,
        source(
            model.wall_per_delivery_s,
            WALL_PER_DELIVERY_S,
            "WALL_PER_DELIVERY_S"
        ),
        model.cpu_per_delivery_s * 1e3,
        source(
            model.cpu_per_delivery_s,
            CPU_PER_DELIVERY_S,
            "CPU_PER_DELIVERY_S"
        ),
        model.in_flight,
        scenario.push_rate_per_second,
    );
    println!(
        "  fixed work {:.0} ms per invocation (before the lease); per page: listing {:.0} ms, \
         commits of ≤ {} households {:.0} ms each",
        model.job_overhead_s * 1e3,
        model.page_list_s * 1e3,
        model.households_per_transaction,
        model.transaction_s * 1e3,
    );
    println!(
        "  one invocation starts a delivery every {:.2} ms ({:.0}/s, bound by {bound:?}); \
         {} households per invocation before its deadline",
        interval * 1e3,
        1.0 / interval,
        model.households_per_invocation(scenario.push_rate_per_second),
    );
    println!(
        "platform: {} senders at most (event source {}, account {}), visibility {} s, \
         {} receives to the DLQ; shards: {:?}",
        platform.slots(),
        platform.sender_max_concurrency,
        platform.account_concurrency,
        platform.visibility_timeout_s,
        platform.max_receives,
        scenario.shards,
    );
    let mut all_sent = true;
    for (label, hours) in runs {
        let s = Scenario {
            hours,
            ..scenario.clone()
        };
        let towns = s.towns(&model);
        let out = simulate(&towns, &model, &platform);
        report(&label, &out, &platform);
        all_sent &= out.all_sent();
    }
    Ok(all_sent)
}

fn minutes(s: Option<f64>) -> String {
    s.map_or("-".into(), |s| format!("{:.1} min", s / 60.0))
}

fn report(label: &str, out: &Outcome, platform: &Platform) {
    let seven = f64::from(MORNING_HOUR) * 3600.0;
    println!();
    println!("scenario: {label}");
    println!(
        "  jobs {} (largest town {} households in {} shard(s)); invocations {}, cut by the \
         deadline {}, refused by a held lease {}, found done {}, dead-lettered {}, refused as \
         late {}",
        out.jobs,
        out.largest_town,
        out.most_shards,
        out.invocations,
        out.cut_by_deadline,
        out.lease_refused,
        out.found_done,
        out.dead_lettered,
        out.refused_late,
    );
    match out.last_sent_s {
        Some(last) => println!(
            "  last household sent at {} = {:.1} min after {MORNING_HOUR:02}:00",
            clock(last),
            (last - seven) / 60.0
        ),
        None => println!("  nothing sent"),
    }
    println!(
        "  household send time after its town's hour: p50 {}, p95 {}, max {}",
        minutes(out.delay_p50_s),
        minutes(out.delay_p95_s),
        minutes(out.delay_max_s),
    );
    println!(
        "  peak concurrent sender Lambdas {} (of the account's {})",
        out.peak_concurrency, platform.account_concurrency
    );
    println!(
        "  DynamoDB writes, sustained while pushing: {:.0} WRU/s in all (a new on-demand table \
         takes 4,000/s), {:.0} WRU/s on one town's partition key (one partition takes \
         {PARTITION_WRITES_PER_S:.0}/s)",
        out.sustained_ledger_writes_per_s, out.sustained_town_ledger_writes_per_s
    );
    println!(
        "  DynamoDB writes, peak in one second (pages commit in bursts): {:.0} WRU in all, \
         {:.0} WRU on one town's partition key",
        out.peak_ledger_writes_per_s, out.peak_town_ledger_writes_per_s
    );
    println!(
        "  DynamoDB: {} Query pages, {} BatchGetItem, {} TransactWriteItems, {} single-item \
         writes; {:.0} write units",
        out.pages_listed, out.batch_gets, out.transactions, out.item_writes, out.write_units
    );
    println!(
        "  channels asked for more than LINE's limit: {} (each shard paces at its share)",
        out.channels_over_limit
    );
    println!(
        "  Lambda: {} requests, {:.0} GB-s",
        out.invocations, out.lambda_gb_s
    );
    if out.all_sent() {
        println!(
            "  sending window: all {} households sent, none missed",
            out.sent
        );
    } else {
        println!(
            "  sending window: MISSED — {} of {} households not sent today",
            out.not_sent, out.households
        );
    }
}
