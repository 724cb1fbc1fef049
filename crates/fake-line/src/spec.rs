//! A validator for the OpenAPI 3.0 Schema Objects of LINE's official specs.
//!
//! Why hand-written rather than a JSON Schema crate: LINE's specs model message types as
//! OpenAPI inheritance — a base schema (`Message`) with a `discriminator` whose `mapping`
//! names subtypes (`TextMessage`) that in turn `allOf` the base. JSON Schema has no
//! `discriminator`; translating it means rewriting the base/subtype cycle by hand, and JSON
//! Schema's `maxLength` counts code points where LINE (a JVM service) counts UTF-16 code units.
//! The subset of the Schema Object that LINE's specs use is small, so it is implemented here
//! directly over the parsed spec, and compilation fails on any keyword outside that subset,
//! so a newer spec cannot be silently half-checked.
//!
//! The `jsonschema` crate over a translation of these specs (`json_schema`, feature
//! `jsonschema-comparison`) was measured against this validator: exactly as strict only with
//! the translation and UTF-16 length keywords, and several times slower and heavier to build;
//! docs/architecture.md, "Validating requests against LINE's OpenAPI specs", has the figures.
//!
//! Semantics (OpenAPI 3.0.3):
//! - `$ref` replaces its object (siblings are ignored);
//! - a schema with a `discriminator` reached through a property, an item or the root
//!   *dispatches*: the value's `propertyName` must name a `mapping` entry (or, without a
//!   mapping, a schema), and the value is validated against that subtype only. Reached as an
//!   `allOf` member (the subtype including its base), it validates as a plain schema;
//! - `nullable: true` admits `null`; absent `type` admits any type;
//! - `exclusiveMinimum`/`exclusiveMaximum` are booleans qualifying `minimum`/`maximum`;
//! - `format` is checked for `uri`, `uuid`, `int32`, `int64`; other formats are annotations;
//! - string lengths are counted in UTF-16 code units, as LINE does.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// A violation of the spec: `property` is LINE's path notation (`messages[0].text`), empty for
/// the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub message: String,
    pub property: String,
}

/// The spec could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the spec is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("unsupported or malformed schema at {pointer}: {reason}")]
    Unsupported { pointer: String, reason: String },
    #[error("unresolvable $ref {0}")]
    BadRef(String),
    #[error("no schema named {0} in components.schemas")]
    NoSuchSchema(String),
}

type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::Boolean => "boolean",
            Ty::Array => "array",
            Ty::Object => "object",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Uri,
    Uuid,
    Int32,
    Int64,
}

#[derive(Debug, Default)]
enum Additional {
    #[default]
    Any,
    Forbidden,
    Schema(NodeId),
}

#[derive(Debug)]
struct Discriminator {
    property: String,
    /// Sorted by value, for stable error messages.
    mapping: Vec<(String, NodeId)>,
}

#[derive(Debug, Default)]
struct Schema {
    ty: Option<Ty>,
    nullable: bool,
    properties: Vec<(String, NodeId)>,
    required: Vec<String>,
    additional: Additional,
    items: Option<NodeId>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: bool,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<(String, regex_lite::Regex)>,
    format: Option<Format>,
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    enumeration: Option<Vec<Value>>,
    all_of: Vec<NodeId>,
    one_of: Vec<NodeId>,
    any_of: Vec<NodeId>,
    not: Option<NodeId>,
    discriminator: Option<Discriminator>,
}

#[derive(Debug)]
enum Node {
    /// Reserved while its target is being compiled (only seen during compilation).
    Pending,
    Ref(NodeId),
    Schema(Box<Schema>),
}

/// Keywords that only annotate (or are vendor extensions): accepted and ignored.
const ANNOTATIONS: &[&str] = &[
    "description",
    "externalDocs",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "title",
    "xml",
];

/// Depth at which validation gives up: data nesting is bounded by `serde_json` (128), so only
/// a schema that refers to itself without consuming data could get here.
const MAX_DEPTH: usize = 512;

/// A compiled OpenAPI document (its `components.schemas`).
#[derive(Debug)]
pub struct Spec {
    nodes: Vec<Node>,
    by_pointer: HashMap<String, NodeId>,
}

/// Converts YAML to JSON, turning scalar mapping keys (`200:`) into strings.
pub(crate) fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

struct Compiler<'a> {
    doc: &'a Value,
    nodes: Vec<Node>,
    by_pointer: HashMap<String, NodeId>,
}

fn unsupported(pointer: &str, reason: impl Into<String>) -> SpecError {
    SpecError::Unsupported {
        pointer: pointer.to_owned(),
        reason: reason.into(),
    }
}

fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Compiler<'_> {
    fn resolve_ref(&mut self, reference: &str) -> Result<NodeId, SpecError> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(SpecError::BadRef(reference.to_owned()));
        };
        if let Some(&id) = self.by_pointer.get(pointer) {
            return Ok(id);
        }
        let target = self
            .doc
            .pointer(pointer)
            .ok_or_else(|| SpecError::BadRef(reference.to_owned()))?;
        // Reserve the id first so that recursive references terminate.
        let id = self.nodes.len();
        self.nodes.push(Node::Pending);
        self.by_pointer.insert(pointer.to_owned(), id);
        let compiled = self.compile(target, pointer)?;
        self.nodes[id] = Node::Ref(compiled);
        Ok(id)
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn usize_kw(
        obj: &serde_json::Map<String, Value>,
        key: &str,
        ptr: &str,
    ) -> Result<Option<usize>, SpecError> {
        match obj.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| unsupported(ptr, format!("{key} must be a non-negative integer"))),
        }
    }

    fn bool_kw(
        obj: &serde_json::Map<String, Value>,
        key: &str,
        ptr: &str,
    ) -> Result<bool, SpecError> {
        match obj.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(unsupported(ptr, format!("{key} must be a boolean"))),
        }
    }

    fn list(&mut self, v: &Value, ptr: &str, key: &str) -> Result<Vec<NodeId>, SpecError> {
        let arr = v
            .as_array()
            .ok_or_else(|| unsupported(ptr, format!("{key} must be an array")))?;
        arr.iter()
            .enumerate()
            .map(|(i, s)| self.compile(s, &format!("{ptr}/{key}/{i}")))
            .collect()
    }

    fn compile(&mut self, schema: &Value, ptr: &str) -> Result<NodeId, SpecError> {
        let obj = schema
            .as_object()
            .ok_or_else(|| unsupported(ptr, "a schema must be an object"))?;
        if let Some(reference) = obj.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| unsupported(ptr, "$ref must be a string"))?;
            let target = self.resolve_ref(reference)?;
            return Ok(self.push(Node::Ref(target)));
        }
        let mut s = Schema::default();
        for (key, value) in obj {
            let kptr = format!("{ptr}/{}", escape_pointer(key));
            match key.as_str() {
                "type" => {
                    s.ty = Some(match value.as_str() {
                        Some("string") => Ty::String,
                        Some("integer") => Ty::Integer,
                        Some("number") => Ty::Number,
                        Some("boolean") => Ty::Boolean,
                        Some("array") => Ty::Array,
                        Some("object") => Ty::Object,
                        _ => return Err(unsupported(&kptr, format!("type {value}"))),
                    })
                }
                "nullable" => s.nullable = Self::bool_kw(obj, key, ptr)?,
                "properties" => {
                    let props = value
                        .as_object()
                        .ok_or_else(|| unsupported(&kptr, "properties must be an object"))?;
                    for (name, sub) in props {
                        let id = self.compile(sub, &format!("{kptr}/{}", escape_pointer(name)))?;
                        s.properties.push((name.clone(), id));
                    }
                }
                "required" => {
                    s.required = value
                        .as_array()
                        .and_then(|a| a.iter().map(|r| r.as_str().map(str::to_owned)).collect())
                        .ok_or_else(|| unsupported(&kptr, "required must be a list of names"))?;
                }
                "additionalProperties" => {
                    s.additional = match value {
                        Value::Bool(true) => Additional::Any,
                        Value::Bool(false) => Additional::Forbidden,
                        sub => Additional::Schema(self.compile(sub, &kptr)?),
                    }
                }
                "items" => s.items = Some(self.compile(value, &kptr)?),
                "minItems" => s.min_items = Self::usize_kw(obj, key, ptr)?,
                "maxItems" => s.max_items = Self::usize_kw(obj, key, ptr)?,
                "uniqueItems" => s.unique_items = Self::bool_kw(obj, key, ptr)?,
                "minLength" => s.min_length = Self::usize_kw(obj, key, ptr)?,
                "maxLength" => s.max_length = Self::usize_kw(obj, key, ptr)?,
                "pattern" => {
                    let p = value
                        .as_str()
                        .ok_or_else(|| unsupported(&kptr, "pattern must be a string"))?;
                    let re = regex_lite::Regex::new(p)
                        .map_err(|e| unsupported(&kptr, format!("pattern {p:?}: {e}")))?;
                    s.pattern = Some((p.to_owned(), re));
                }
                "format" => {
                    s.format = match value.as_str() {
                        Some("uri") => Some(Format::Uri),
                        Some("uuid") => Some(Format::Uuid),
                        Some("int32") => Some(Format::Int32),
                        Some("int64") => Some(Format::Int64),
                        Some(_) => None, // date-time, double, binary, …: annotations here
                        None => return Err(unsupported(&kptr, "format must be a string")),
                    }
                }
                "minimum" | "maximum" => {
                    let n = value
                        .as_f64()
                        .ok_or_else(|| unsupported(&kptr, format!("{key} must be a number")))?;
                    if key == "minimum" {
                        s.minimum = Some((n, Self::bool_kw(obj, "exclusiveMinimum", ptr)?));
                    } else {
                        s.maximum = Some((n, Self::bool_kw(obj, "exclusiveMaximum", ptr)?));
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" => {} // read with minimum/maximum
                "enum" => {
                    s.enumeration = Some(
                        value
                            .as_array()
                            .cloned()
                            .ok_or_else(|| unsupported(&kptr, "enum must be an array"))?,
                    )
                }
                "allOf" => s.all_of = self.list(value, ptr, key)?,
                "oneOf" => s.one_of = self.list(value, ptr, key)?,
                "anyOf" => s.any_of = self.list(value, ptr, key)?,
                "not" => s.not = Some(self.compile(value, &kptr)?),
                "discriminator" => {
                    let property = value
                        .get("propertyName")
                        .and_then(Value::as_str)
                        .ok_or_else(|| unsupported(&kptr, "discriminator without propertyName"))?
                        .to_owned();
                    let mut mapping = Vec::new();
                    if let Some(map) = value.get("mapping") {
                        let map = map
                            .as_object()
                            .ok_or_else(|| unsupported(&kptr, "mapping must be an object"))?;
                        for (tag, reference) in map {
                            let reference = reference.as_str().ok_or_else(|| {
                                unsupported(&kptr, "mapping values must be $refs")
                            })?;
                            mapping.push((tag.clone(), self.resolve_ref(reference)?));
                        }
                    } else {
                        // Implicit mapping: the tag is a schema name.
                        let names: Vec<String> = self
                            .doc
                            .pointer("/components/schemas")
                            .and_then(Value::as_object)
                            .map(|m| m.keys().cloned().collect())
                            .unwrap_or_default();
                        for name in names {
                            let id = self.resolve_ref(&format!(
                                "#/components/schemas/{}",
                                escape_pointer(&name)
                            ))?;
                            mapping.push((name, id));
                        }
                    }
                    mapping.sort_by(|a, b| a.0.cmp(&b.0));
                    s.discriminator = Some(Discriminator { property, mapping });
                }
                k if ANNOTATIONS.contains(&k) || k.starts_with("x-") => {}
                other => {
                    return Err(unsupported(
                        ptr,
                        format!("keyword {other:?} is not supported"),
                    ))
                }
            }
        }
        Ok(self.push(Node::Schema(Box::new(s))))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reached as a property, an item or the root: a discriminator picks the subtype.
    Dispatch,
    /// Reached as an `allOf` member: the schema is a base type, checked as a plain schema.
    Base,
}

struct Run<'s> {
    spec: &'s Spec,
    path: String,
    out: Vec<Violation>,
}

impl Run<'_> {
    fn violation(&mut self, message: impl Into<String>) {
        self.out.push(Violation {
            message: message.into(),
            property: self.path.clone(),
        });
    }

    fn with_property(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(name);
        f(self);
        self.path.truncate(len);
    }

    fn with_index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        let len = self.path.len();
        let _ = write!(self.path, "[{i}]");
        f(self);
        self.path.truncate(len);
    }

    /// Whether `value` matches `id`, without reporting (for oneOf/anyOf/not).
    fn matches(&self, id: NodeId, value: &Value, depth: usize) -> bool {
        let mut probe = Run {
            spec: self.spec,
            path: String::new(),
            out: Vec::new(),
        };
        probe.check(id, value, Mode::Dispatch, depth);
        probe.out.is_empty()
    }

    fn check(&mut self, id: NodeId, value: &Value, mode: Mode, depth: usize) {
        if depth > MAX_DEPTH {
            self.violation("The schema nests too deeply to validate");
            return;
        }
        let schema = match &self.spec.nodes[id] {
            Node::Ref(target) => return self.check(*target, value, mode, depth + 1),
            Node::Pending => return, // unreachable after compilation
            Node::Schema(s) => s.as_ref(),
        };

        if mode == Mode::Dispatch {
            if let Some(d) = &schema.discriminator {
                // A missing or non-string tag falls through: the base schema's `required` and
                // `type` report it.
                if let Some(Value::String(tag)) = value.get(&d.property) {
                    match d.mapping.iter().find(|(t, _)| t == tag) {
                        // A mapping back to the schema itself must not dispatch again.
                        Some((_, target)) if self.spec.resolve(*target) != id => {
                            return self.check(*target, value, Mode::Dispatch, depth + 1);
                        }
                        Some(_) => {}
                        None => {
                            let tags: Vec<&str> =
                                d.mapping.iter().map(|(t, _)| t.as_str()).collect();
                            let msg = format!(
                                "Must be one of the following values: [{}]",
                                tags.join(", ")
                            );
                            self.with_property(&d.property, |r| r.violation(msg));
                            return;
                        }
                    }
                }
            }
        }

        // A null passes only a nullable schema or one that constrains neither type nor values
        // (whose allOf members may still refuse it).
        let constrained = schema.ty.is_some() || schema.enumeration.is_some();
        if value.is_null() && !schema.nullable && constrained {
            self.violation("Must not be null");
            return;
        }

        if let Some(ty) = schema.ty {
            if !value.is_null() && !type_matches(ty, value) {
                self.violation(format!("Must be of type {}", ty.name()));
                return;
            }
        }

        if let Some(values) = &schema.enumeration {
            let allowed_null = value.is_null() && schema.nullable;
            if !allowed_null && !values.contains(value) {
                let shown: Vec<String> = values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect();
                self.violation(format!(
                    "Must be one of the following values: [{}]",
                    shown.join(", ")
                ));
            }
        }

        match value {
            Value::String(s) => self.check_string(schema, s),
            Value::Number(_) => self.check_number(schema, value),
            Value::Array(items) => self.check_array(schema, items, depth),
            Value::Object(map) => self.check_object(schema, map, depth),
            Value::Null | Value::Bool(_) => {}
        }

        for &member in &schema.all_of {
            self.check(member, value, Mode::Base, depth + 1);
        }
        if !schema.one_of.is_empty() {
            let n = schema
                .one_of
                .iter()
                .filter(|&&s| self.matches(s, value, depth + 1))
                .count();
            if n != 1 {
                self.violation(format!(
                    "Must match exactly one of {} alternatives (matched {n})",
                    schema.one_of.len()
                ));
            }
        }
        if !schema.any_of.is_empty()
            && !schema
                .any_of
                .iter()
                .any(|&s| self.matches(s, value, depth + 1))
        {
            self.violation("Must match at least one of the alternatives");
        }
        if let Some(not) = schema.not {
            if self.matches(not, value, depth + 1) {
                self.violation("Must not match the excluded schema");
            }
        }
    }

    fn check_string(&mut self, schema: &Schema, s: &str) {
        if schema.min_length.is_some() || schema.max_length.is_some() {
            let len = utf16_len(s);
            let too_short = schema.min_length.is_some_and(|m| len < m);
            let too_long = schema.max_length.is_some_and(|m| len > m);
            if too_short || too_long {
                self.violation(length_message(schema.min_length, schema.max_length));
            }
        }
        if let Some((source, re)) = &schema.pattern {
            if !re.is_match(s) {
                self.violation(format!("Must match the pattern {source}"));
            }
        }
        match schema.format {
            Some(Format::Uri) if url::Url::parse(s).is_err() => {
                self.violation("Must be a valid URI");
            }
            Some(Format::Uuid) if uuid::Uuid::try_parse(s).is_err() => {
                self.violation("Must be a valid UUID");
            }
            _ => {}
        }
    }

    fn check_number(&mut self, schema: &Schema, value: &Value) {
        let range_ok = match schema.format {
            Some(Format::Int32) => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Some(Format::Int64) => value.as_i64().is_some(),
            _ => true,
        };
        if !range_ok && schema.ty == Some(Ty::Integer) {
            self.violation("Must be within the range of its integer format");
        }
        let Some(n) = value.as_f64() else { return };
        if let Some((min, exclusive)) = schema.minimum {
            if n < min || (exclusive && n == min) {
                let op = if exclusive {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                self.violation(format!("Must be {op} {min}"));
            }
        }
        if let Some((max, exclusive)) = schema.maximum {
            if n > max || (exclusive && n == max) {
                let op = if exclusive {
                    "less than"
                } else {
                    "less than or equal to"
                };
                self.violation(format!("Must be {op} {max}"));
            }
        }
    }

    fn check_array(&mut self, schema: &Schema, items: &[Value], depth: usize) {
        let too_few = schema.min_items.is_some_and(|m| items.len() < m);
        let too_many = schema.max_items.is_some_and(|m| items.len() > m);
        if too_few || too_many {
            self.violation(size_message(schema.min_items, schema.max_items));
        }
        if schema.unique_items {
            let duplicate = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].contains(a));
            if duplicate {
                self.violation("Must not contain duplicate items");
            }
        }
        if let Some(item_schema) = schema.items {
            for (i, item) in items.iter().enumerate() {
                self.with_index(i, |r| r.check(item_schema, item, Mode::Dispatch, depth + 1));
            }
        }
    }

    fn check_object(
        &mut self,
        schema: &Schema,
        map: &serde_json::Map<String, Value>,
        depth: usize,
    ) {
        for name in &schema.required {
            if !map.contains_key(name) {
                self.with_property(name, |r| r.violation("Must be specified"));
            }
        }
        for (name, sub) in &schema.properties {
            if let Some(v) = map.get(name) {
                self.with_property(name, |r| r.check(*sub, v, Mode::Dispatch, depth + 1));
            }
        }
        match schema.additional {
            Additional::Any => {}
            Additional::Forbidden => {
                for name in map.keys() {
                    if !schema.properties.iter().any(|(p, _)| p == name) {
                        self.with_property(name, |r| r.violation("Unknown property"));
                    }
                }
            }
            Additional::Schema(sub) => {
                for (name, v) in map {
                    if !schema.properties.iter().any(|(p, _)| p == name) {
                        self.with_property(name, |r| r.check(sub, v, Mode::Dispatch, depth + 1));
                    }
                }
            }
        }
    }
}

fn type_matches(ty: Ty, value: &Value) -> bool {
    match ty {
        Ty::String => value.is_string(),
        Ty::Boolean => value.is_boolean(),
        Ty::Array => value.is_array(),
        Ty::Object => value.is_object(),
        Ty::Number => value.is_number(),
        Ty::Integer => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
    }
}

/// Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2).
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn length_message(min: Option<usize>, max: Option<usize>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("Length must be between {a} and {b}"),
        (None, Some(b)) => format!("Length must be between 0 and {b}"),
        (Some(a), None) => format!("Length must be at least {a}"),
        (None, None) => String::new(),
    }
}

fn size_message(min: Option<usize>, max: Option<usize>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("Size must be between {a} and {b}"),
        (None, Some(b)) => format!("Size must be between 0 and {b}"),
        (Some(a), None) => format!("Size must be at least {a}"),
        (None, None) => String::new(),
    }
}

impl Spec {
    /// Parses an OpenAPI document and compiles every schema in `components.schemas`.
    pub fn from_yaml(text: &str) -> Result<Self, SpecError> {
        let doc = yaml_to_json(serde_yaml::from_str(text)?);
        let names: Vec<String> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let mut compiler = Compiler {
            doc: &doc,
            nodes: Vec::new(),
            by_pointer: HashMap::new(),
        };
        for name in names {
            compiler.resolve_ref(&format!("#/components/schemas/{}", escape_pointer(&name)))?;
        }
        Ok(Spec {
            nodes: compiler.nodes,
            by_pointer: compiler.by_pointer,
        })
    }

    fn resolve(&self, mut id: NodeId) -> NodeId {
        // Bounded: a cycle of pure references is impossible after compilation, but be safe.
        for _ in 0..MAX_DEPTH {
            match self.nodes[id] {
                Node::Ref(t) => id = t,
                _ => break,
            }
        }
        id
    }

    /// A handle on the named schema (`components.schemas.<name>`).
    pub fn schema(&self, name: &str) -> Result<SchemaRef<'_>, SpecError> {
        let pointer = format!("/components/schemas/{}", escape_pointer(name));
        self.by_pointer
            .get(&pointer)
            .map(|&id| SchemaRef { spec: self, id })
            .ok_or_else(|| SpecError::NoSuchSchema(name.to_owned()))
    }

    /// The value of a numeric keyword of a named schema's property (e.g. `maxItems` of
    /// `PushMessageRequest.messages`), so tests can show a limit comes from the spec.
    pub fn property_limit(&self, schema: &str, property: &str, keyword: &str) -> Option<usize> {
        let root = self.resolve(self.schema(schema).ok()?.id);
        let Node::Schema(s) = &self.nodes[root] else {
            return None;
        };
        let (_, prop) = s.properties.iter().find(|(n, _)| n == property)?;
        let Node::Schema(p) = &self.nodes[self.resolve(*prop)] else {
            return None;
        };
        match keyword {
            "minItems" => p.min_items,
            "maxItems" => p.max_items,
            "minLength" => p.min_length,
            "maxLength" => p.max_length,
            _ => None,
        }
    }
}

/// A compiled schema of a [`Spec`].
#[derive(Clone, Copy)]
pub struct SchemaRef<'s> {
    spec: &'s Spec,
    id: NodeId,
}

impl SchemaRef<'_> {
    /// Every violation of the schema by `value` (empty when valid).
    pub fn validate(&self, value: &Value) -> Vec<Violation> {
        let mut run = Run {
            spec: self.spec,
            path: String::new(),
            out: Vec::new(),
        };
        run.check(self.id, value, Mode::Dispatch, 0);
        run.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MINI: &str = r##"
openapi: 3.0.0
components:
  schemas:
    Req:
      type: object
      required: [messages]
      properties:
        messages:
          type: array
          minItems: 1
          maxItems: 2
          items:
            $ref: "#/components/schemas/Msg"
        n:
          type: integer
          format: int32
          minimum: 0
          maximum: 10
          exclusiveMaximum: true
        maybe:
          type: string
          nullable: true
    Msg:
      type: object
      required: [type]
      properties:
        type:
          type: string
        tag:
          type: string
          maxLength: 2
      discriminator:
        propertyName: type
        mapping:
          text: "#/components/schemas/TextMsg"
          pic: "#/components/schemas/PicMsg"
    TextMsg:
      type: object
      required: [text]
      allOf:
        - $ref: "#/components/schemas/Msg"
        - type: object
          properties:
            text:
              type: string
    PicMsg:
      allOf:
        - $ref: "#/components/schemas/Msg"
        - type: object
          required: [url]
          properties:
            url:
              type: string
              format: uri
              pattern: "^https://"
            tree:
              $ref: "#/components/schemas/Tree"
    Tree:
      type: object
      properties:
        children:
          type: array
          items:
            $ref: "#/components/schemas/Tree"
        kind:
          type: string
          enum: [leaf, node]
"##;

    fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
        v.sort();
        v
    }

    fn violations(value: Value) -> Vec<(String, String)> {
        let spec = Spec::from_yaml(MINI).unwrap();
        spec.schema("Req")
            .unwrap()
            .validate(&value)
            .into_iter()
            .map(|v| (v.property, v.message))
            .collect()
    }

    #[test]
    fn valid_values_pass() {
        assert!(violations(json!({"messages": [
            {"type": "text", "text": "hi", "tag": "ab", "extra": 1},
            {"type": "pic", "url": "https://x/y", "tree": {"kind": "node", "children": [{"kind": "leaf"}]}}
        ], "n": 9, "maybe": null}))
        .is_empty());
    }

    #[test]
    fn discriminator_dispatches_to_the_subtype_and_checks_the_base() {
        let v = violations(json!({"messages": [{"type": "text", "tag": "abc"}]}));
        assert_eq!(
            v,
            vec![
                ("messages[0].text".into(), "Must be specified".into()),
                (
                    "messages[0].tag".into(),
                    "Length must be between 0 and 2".into()
                ),
            ]
        );
    }

    #[test]
    fn unknown_or_missing_discriminator_values() {
        assert_eq!(
            violations(json!({"messages": [{"type": "video"}]})),
            vec![(
                "messages[0].type".into(),
                "Must be one of the following values: [pic, text]".into()
            )]
        );
        assert_eq!(
            violations(json!({"messages": [{"text": "x"}]})),
            vec![("messages[0].type".into(), "Must be specified".into())]
        );
        assert_eq!(
            violations(json!({"messages": [{"type": 3}]})),
            vec![("messages[0].type".into(), "Must be of type string".into())]
        );
    }

    #[test]
    fn sizes_types_ranges_formats_patterns_enums() {
        assert_eq!(
            violations(json!({"messages": []})),
            vec![("messages".into(), "Size must be between 1 and 2".into())]
        );
        assert_eq!(
            violations(json!({})),
            vec![("messages".into(), "Must be specified".into())]
        );
        assert_eq!(
            violations(json!([])),
            vec![("".into(), "Must be of type object".into())]
        );
        let v = sorted(violations(json!({
            "messages": [{"type": "pic", "url": "http://x", "tree": {"children": [{"kind": "twig"}]}}],
            "n": 10
        })));
        assert_eq!(
            v,
            sorted(vec![
                ("n".into(), "Must be less than 10".into()),
                (
                    "messages[0].url".into(),
                    "Must match the pattern ^https://".into()
                ),
                (
                    "messages[0].tree.children[0].kind".into(),
                    "Must be one of the following values: [leaf, node]".into()
                ),
            ])
        );
        assert_eq!(
            violations(json!({"messages": [{"type": "pic", "url": "not a uri"}]})),
            vec![
                (
                    "messages[0].url".into(),
                    "Must match the pattern ^https://".into()
                ),
                ("messages[0].url".into(), "Must be a valid URI".into()),
            ]
        );
        assert_eq!(
            violations(json!({"messages": [{"type": "text", "text": "x"}], "n": 1.5})),
            vec![("n".into(), "Must be of type integer".into())]
        );
        assert_eq!(
            violations(json!({"messages": [{"type": "text", "text": "x"}], "n": 4_000_000_000u64})),
            vec![
                (
                    "n".into(),
                    "Must be within the range of its integer format".into()
                ),
                ("n".into(), "Must be less than 10".into()),
            ]
        );
    }

    #[test]
    fn lengths_count_utf16_code_units() {
        // "😀" is one code point but two UTF-16 code units: over a maxLength of 2 with "a".
        let v = violations(json!({"messages": [{"type": "text", "text": "x", "tag": "a😀"}]}));
        assert_eq!(
            v,
            vec![(
                "messages[0].tag".into(),
                "Length must be between 0 and 2".into()
            )]
        );
        assert_eq!(utf16_len("a😀"), 3);
        assert_eq!(utf16_len("あ"), 1);
    }

    #[test]
    fn unsupported_keywords_fail_compilation() {
        let doc =
            "components:\n  schemas:\n    A:\n      type: object\n      patternProperties: {}\n";
        assert!(matches!(
            Spec::from_yaml(doc),
            Err(SpecError::Unsupported { .. })
        ));
        let doc = "components:\n  schemas:\n    A:\n      $ref: '#/components/schemas/Missing'\n";
        assert!(matches!(Spec::from_yaml(doc), Err(SpecError::BadRef(_))));
    }

    #[test]
    fn self_referencing_schemas_do_not_loop() {
        let doc = "components:\n  schemas:\n    A:\n      $ref: '#/components/schemas/B'\n    B:\n      allOf:\n        - $ref: '#/components/schemas/A'\n";
        let spec = Spec::from_yaml(doc).unwrap();
        let v = spec.schema("A").unwrap().validate(&json!({}));
        assert!(!v.is_empty());
    }
}
