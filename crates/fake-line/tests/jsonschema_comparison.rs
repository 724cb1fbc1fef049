//! The hand-written OpenAPI validator (`fake_line::spec`) against the `jsonschema` crate run
//! over the same specs translated to JSON Schema (`fake_line::json_schema`), on the bodies of
//! the contract tests and on mutations of valid bodies. Run with
//! `cargo test -p fake-line --features jsonschema-comparison --test jsonschema_comparison -- --nocapture`;
//! the table it prints is the one in docs/architecture.md.

use std::collections::BTreeMap;
use std::time::Instant;

use fake_line::contract::{
    comparison, contract, CHANNEL_ACCESS_TOKEN_YAML, MESSAGING_API_YAML, WEBHOOK_YAML,
};
use fake_line::json_schema::{JsonSchemaSpec, LengthUnit};
use fake_line::spec::Spec;
use fake_line::Violation;
use serde_json::{json, Value};

const USER: &str = "U4af4980629a1b2c3d4e5f6a7b8c9d0e1";
const PUSH: &str = "PushMessageRequest";
const REPLY: &str = "ReplyMessageRequest";
const RICH_MENU: &str = "RichMenuRequest";
const TOKEN: &str = "IssueStatelessChannelTokenByClientSecretRequest";
const WEBHOOK: &str = "CallbackRequest";

fn text(t: &str) -> Value {
    json!({ "type": "text", "text": t })
}

fn realistic_messages() -> Value {
    json!([
        {"type": "text", "text": "今日のひとこと 👶 (妊娠20週)",
         "quickReply": {"items": [
            {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}},
            {"type": "action", "action": {"type": "postback", "label": "登録", "data": "a=reg",
              "displayText": "登録する"}},
            {"type": "action", "action": {"type": "datetimepicker", "label": "予定日",
              "data": "a=due", "mode": "date", "initial": "2025-10-01"}}
         ]}},
        {"type": "sticker", "packageId": "446", "stickerId": "1988"},
        {"type": "template", "altText": "確認",
         "template": {"type": "confirm", "text": "登録しますか？", "actions": [
            {"type": "message", "label": "はい", "text": "はい"},
            {"type": "uri", "label": "詳しく", "uri": "https://example.jp/kizuna"}]}},
        {"type": "flex", "altText": "カード",
         "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
           "contents": [{"type": "text", "text": "こんにちは", "wrap": true}]}}}
    ])
}

fn rich_menu(width: u64, height: u64, areas: usize) -> Value {
    let w = width / areas.max(1) as u64;
    let areas: Vec<Value> = (0..areas as u64)
        .map(|i| {
            json!({"bounds": {"x": i * w, "y": 0, "width": w, "height": height},
                   "action": {"type": "message", "label": "ヘルプ", "text": "ヘルプ"}})
        })
        .collect();
    json!({"size": {"width": width, "height": height}, "selected": true,
           "name": "kizuna-default", "chatBarText": "メニュー", "areas": areas})
}

fn deep_flex(levels: usize) -> Value {
    let mut node = json!({ "type": "text", "text": "leaf" });
    for _ in 0..levels {
        node = json!({ "type": "box", "layout": "vertical", "contents": [node] });
    }
    json!({ "to": USER, "messages": [{ "type": "flex", "altText": "deep",
        "contents": { "type": "bubble", "body": node } }] })
}

/// Valid bodies, each per its schema: the seeds of the mutations.
fn valid_bodies() -> Vec<(&'static str, Value)> {
    let five: Vec<Value> = (0..5).map(|i| text(&format!("m{i}"))).collect();
    vec![
        (PUSH, json!({ "to": USER, "messages": five })),
        (
            PUSH,
            json!({ "to": USER, "messages": realistic_messages(),
                       "notificationDisabled": true }),
        ),
        (
            PUSH,
            json!({ "to": USER, "messages": [text(&"あ".repeat(5000))] }),
        ),
        (PUSH, deep_flex(60)),
        (
            REPLY,
            json!({ "replyToken": "abc", "messages": [text("hi")] }),
        ),
        (RICH_MENU, rich_menu(2500, 843, 4)),
        (RICH_MENU, rich_menu(800, 270, 20)),
        (
            TOKEN,
            json!({ "grant_type": "client_credentials", "client_id": "1",
                        "client_secret": "s" }),
        ),
        (
            WEBHOOK,
            json!({"destination": USER, "events": [{
            "type": "unfollow", "mode": "active", "timestamp": 1, "webhookEventId": "01H",
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": USER}}]}),
        ),
        (
            WEBHOOK,
            json!({"destination": USER, "events": [{
            "type": "message", "mode": "active", "timestamp": 1, "webhookEventId": "01H",
            "deliveryContext": {"isRedelivery": false}, "replyToken": "r",
            "source": {"type": "user", "userId": USER},
            "message": {"type": "text", "id": "1", "text": "はい", "quoteToken": "q"}}]}),
        ),
    ]
}

/// The request bodies of tests/contract.rs that the spec (not a documented extra rule)
/// decides.
fn contract_test_bodies() -> Vec<(&'static str, Value)> {
    let six: Vec<Value> = (0..6).map(|i| text(&format!("m{i}"))).collect();
    let quick = |items: Vec<Value>| {
        json!({ "to": USER, "messages": [{ "type": "text", "text": "q",
            "quickReply": { "items": items } }] })
    };
    let action =
        |t: &str| json!({"type": "action", "action": {"type": t, "label": "x", "text": "t"}});
    let mut chat_bar = rich_menu(2500, 843, 4);
    chat_bar["chatBarText"] = json!("あ".repeat(15));
    vec![
        (PUSH, json!({ "to": USER, "messages": six })),
        (PUSH, json!({ "to": USER, "messages": [] })),
        (
            PUSH,
            json!({ "to": USER, "messages": [{ "type": "text" }] }),
        ),
        (
            PUSH,
            json!({ "to": USER, "messages": [{ "type": "hologram" }] }),
        ),
        (
            PUSH,
            json!({ "to": USER, "messages": [{ "type": "text", "text": 42 }] }),
        ),
        (PUSH, json!({ "messages": [text("hi")] })),
        (PUSH, quick((0..14).map(|_| action("message")).collect())),
        (PUSH, quick(vec![action("teleport")])),
        (
            PUSH,
            json!({ "to": USER, "messages": [{ "type": "template", "template": {
            "type": "confirm", "text": "ok?", "actions": [
                {"type": "message", "label": "y", "text": "y"},
                {"type": "message", "label": "n", "text": "n"}]}}]}),
        ),
        (RICH_MENU, chat_bar),
        (
            WEBHOOK,
            json!({"destination": "nope", "events": [{"type": "follow"}]}),
        ),
    ]
}

/// Every node of `v` with its JSON pointer.
fn nodes(v: &Value, pointer: String, out: &mut Vec<(String, Value)>) {
    out.push((pointer.clone(), v.clone()));
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| nodes(c, format!("{pointer}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| nodes(c, format!("{pointer}/{i}"), out)),
        _ => {}
    }
}

fn replaced(body: &Value, pointer: &str, with: Value) -> Value {
    let mut b = body.clone();
    *b.pointer_mut(pointer).expect("a node of the body") = with;
    b
}

fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) => json!(42),
        Value::Number(_) | Value::Bool(_) => json!("x"),
        Value::Array(_) => json!({}),
        Value::Object(_) => json!([]),
        Value::Null => json!(0),
    }
}

/// Mutations of one node of a body, by category.
fn node_mutations(body: &Value, ptr: &str, node: &Value) -> Vec<(&'static str, Value)> {
    let mut out = vec![
        ("wrong type", replaced(body, ptr, wrong_type(node))),
        ("null", replaced(body, ptr, Value::Null)),
    ];
    match node {
        Value::String(_) => {
            out.push((
                "unknown enum / tag value",
                replaced(body, ptr, json!("zzz-unknown")),
            ));
            out.push(("empty string", replaced(body, ptr, json!(""))));
            // Past a limit in code points and in UTF-16 code units...
            for n in [15, 21, 301, 1501, 5001] {
                out.push((
                    "over-long (ASCII)",
                    replaced(body, ptr, json!("a".repeat(n))),
                ));
            }
            // ...and past it in UTF-16 code units only (one emoji = 2 units).
            for n in [8, 11, 151, 751, 2501] {
                out.push((
                    "over-long (UTF-16 only)",
                    replaced(body, ptr, json!("😀".repeat(n))),
                ));
            }
        }
        Value::Number(_) => {
            out.push(("out of range number", replaced(body, ptr, json!(-1))));
            out.push((
                "out of range number",
                replaced(body, ptr, json!(4_000_000_000u64)),
            ));
            out.push(("fractional number", replaced(body, ptr, json!(1.5))));
        }
        Value::Array(items) if !items.is_empty() => {
            let mut more = items.clone();
            while more.len() < 25 {
                more.push(items[0].clone());
            }
            out.push(("too many items", replaced(body, ptr, Value::Array(more))));
            out.push(("no items", replaced(body, ptr, json!([]))));
        }
        Value::Object(map) => {
            for key in map.keys() {
                let mut without = map.clone();
                without.remove(key);
                out.push((
                    "missing property",
                    replaced(body, ptr, Value::Object(without)),
                ));
            }
            let mut extra = map.clone();
            extra.insert("zzzExtra".to_owned(), json!(1));
            out.push((
                "unknown property",
                replaced(body, ptr, Value::Object(extra)),
            ));
        }
        _ => {}
    }
    out
}

/// Mutations of every node of one valid body (the root only loses or gains properties).
fn mutations(body: &Value) -> Vec<(&'static str, Value)> {
    let mut all = Vec::new();
    nodes(body, String::new(), &mut all);
    all.iter()
        .flat_map(|(ptr, node)| {
            let mutated = node_mutations(body, ptr, node);
            let keep_root = |(c, _): &(&str, Value)| {
                !ptr.is_empty() || matches!(*c, "missing property" | "unknown property")
            };
            mutated.into_iter().filter(keep_root).collect::<Vec<_>>()
        })
        .collect()
}

fn hand_written(schema: &str, v: &Value) -> Vec<Violation> {
    let c = contract();
    let spec = match schema {
        TOKEN => &c.token,
        WEBHOOK => &c.webhook,
        _ => &c.messaging,
    };
    spec.schema(schema).expect("a known schema").validate(v)
}

#[derive(Default)]
struct Tally {
    cases: usize,
    both_accept: usize,
    both_reject: usize,
    same_property: usize,
    only_hand_written_rejects: usize,
    only_jsonschema_rejects: usize,
}

struct Comparison {
    code_points: Vec<(&'static [&'static str], JsonSchemaSpec)>,
    tallies: BTreeMap<(&'static str, LengthUnit), Tally>,
    examples: Vec<String>,
}

impl Comparison {
    fn code_point_violations(&self, schema: &str, v: &Value) -> Vec<Violation> {
        let (_, spec) = self
            .code_points
            .iter()
            .find(|(names, _)| names.contains(&schema))
            .expect("a translated schema");
        spec.validate(schema, v).expect("a known schema")
    }

    fn run(&mut self, category: &'static str, schema: &'static str, v: &Value) {
        let hand = hand_written(schema, v);
        for unit in [LengthUnit::Utf16, LengthUnit::CodePoints] {
            let js = match unit {
                LengthUnit::Utf16 => comparison::jsonschema_violations(schema, v),
                LengthUnit::CodePoints => self.code_point_violations(schema, v),
            };
            let t = self.tallies.entry((category, unit)).or_default();
            t.cases += 1;
            match (hand.is_empty(), js.is_empty()) {
                (true, true) => t.both_accept += 1,
                (false, false) => {
                    t.both_reject += 1;
                    if hand
                        .iter()
                        .any(|h| js.iter().any(|j| j.property == h.property))
                    {
                        t.same_property += 1;
                    }
                }
                (false, true) => t.only_hand_written_rejects += 1,
                (true, false) => t.only_jsonschema_rejects += 1,
            }
            if hand.is_empty() != js.is_empty() && self.examples.len() < 40 {
                self.examples.push(format!(
                    "{category} [{unit:?}] {schema}: hand-written {:?} / jsonschema {:?}",
                    hand.iter().map(|h| &h.property).collect::<Vec<_>>(),
                    js.iter()
                        .map(|j| (&j.property, &j.message))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }

    fn print(&self) {
        println!("| cases | lengths | n | both accept | both reject (same property) | only hand-written rejects | only jsonschema rejects |");
        println!("|---|---|---|---|---|---|---|");
        for ((category, unit), t) in &self.tallies {
            println!(
                "| {category} | {unit:?} | {} | {} | {} ({}) | {} | {} |",
                t.cases,
                t.both_accept,
                t.both_reject,
                t.same_property,
                t.only_hand_written_rejects,
                t.only_jsonschema_rejects
            );
        }
        for e in &self.examples {
            println!("  {e}");
        }
    }

    fn totals(&self, unit: LengthUnit) -> (usize, usize, usize) {
        self.tallies
            .iter()
            .filter(|((_, u), _)| *u == unit)
            .fold((0, 0, 0), |(n, h, j), (_, t)| {
                (
                    n + t.cases,
                    h + t.only_hand_written_rejects,
                    j + t.only_jsonschema_rejects,
                )
            })
    }
}

fn compare_everything() -> Comparison {
    let mut c = Comparison {
        code_points: comparison::specs(LengthUnit::CodePoints),
        tallies: BTreeMap::new(),
        examples: Vec::new(),
    };
    for (schema, body) in valid_bodies() {
        c.run("valid bodies", schema, &body);
        for (category, mutated) in mutations(&body) {
            c.run(category, schema, &mutated);
        }
    }
    for (schema, body) in contract_test_bodies() {
        c.run("contract test bodies", schema, &body);
    }
    c
}

#[test]
fn verdicts_of_both_validators_on_contract_cases_and_mutations() {
    let c = compare_everything();
    c.print();
    let (n, hand_only, js_only) = c.totals(LengthUnit::Utf16);
    println!("UTF-16 lengths: {n} cases, {hand_only} refused only by the hand-written validator, {js_only} only by jsonschema");
    let (n, hand_only, js_only) = c.totals(LengthUnit::CodePoints);
    println!("code-point lengths: {n} cases, {hand_only} refused only by the hand-written validator, {js_only} only by jsonschema");
    // The finding: with lengths in UTF-16 code units the verdicts agree everywhere; with JSON
    // Schema's code points, strings over a limit only in UTF-16 code units get through.
    assert_eq!(c.totals(LengthUnit::Utf16), (5744, 0, 0));
    let (_, hand_only, js_only) = c.totals(LengthUnit::CodePoints);
    assert!(hand_only > 0 && js_only == 0, "{hand_only} {js_only}");
    // Every valid seed is valid for both.
    for unit in [LengthUnit::Utf16, LengthUnit::CodePoints] {
        let seeds = &c.tallies[&("valid bodies", unit)];
        assert_eq!(seeds.both_accept, seeds.cases, "{unit:?}");
    }
}

#[test]
fn code_point_lengths_let_utf16_overlong_strings_through() {
    // chatBarText: maxLength 14. Eight emoji are 8 code points but 16 UTF-16 code units.
    let mut menu = rich_menu(2500, 843, 4);
    menu["chatBarText"] = json!("😀".repeat(8));
    assert!(!hand_written(RICH_MENU, &menu).is_empty());
    assert!(!comparison::jsonschema_violations(RICH_MENU, &menu).is_empty());
    let code_points = comparison::specs(LengthUnit::CodePoints);
    let (_, messaging) = &code_points[0];
    assert!(messaging.validate(RICH_MENU, &menu).unwrap().is_empty());
}

#[test]
fn the_fake_judges_every_body_with_both_validators() {
    let before = comparison::compared();
    let body = json!({ "to": USER, "messages": realistic_messages() });
    assert!(fake_line::contract::check_push_body(&body).is_empty());
    let mut bad = body.clone();
    bad["messages"][0]["text"] = json!(42);
    assert!(!fake_line::contract::check_push_body(&bad).is_empty());
    assert!(comparison::compared() >= before + 2);
    assert!(comparison::disagreements().is_empty());
}

#[test]
fn time_per_validation() {
    let body = json!({ "to": USER, "messages": realistic_messages() });
    // Build both before timing.
    assert!(hand_written(PUSH, &body).is_empty());
    assert!(comparison::jsonschema_violations(PUSH, &body).is_empty());
    let rounds = 2000;
    let start = Instant::now();
    for _ in 0..rounds {
        assert!(hand_written(PUSH, &body).is_empty());
    }
    let hand = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        assert!(comparison::jsonschema_violations(PUSH, &body).is_empty());
    }
    let js = start.elapsed() / rounds;
    let start = Instant::now();
    let _ = comparison::specs(LengthUnit::Utf16);
    let build = start.elapsed();
    let start = Instant::now();
    for yaml in [MESSAGING_API_YAML, CHANNEL_ACCESS_TOKEN_YAML, WEBHOOK_YAML] {
        Spec::from_yaml(yaml).expect("the embedded specs compile");
    }
    let compile = start.elapsed();
    println!(
        "per realistic push body: hand-written {hand:?}, jsonschema {js:?}; \
         compiling the three specs: hand-written {compile:?}, jsonschema {build:?}"
    );
}
