//! LINE's OpenAPI schemas translated into JSON Schema (draft 7) and checked by the
//! `jsonschema` crate: built beside the hand-written [`crate::spec`] to compare the two
//! (cargo feature `jsonschema-comparison`; the finding is in docs/architecture.md, "Validating
//! requests against LINE's OpenAPI specs").
//!
//! What the translation has to do, because OpenAPI 3.0's Schema Object is not JSON Schema:
//! - `discriminator` + `mapping`: a schema reached as a property, an item or the root becomes
//!   `if` (the tag is a string) `then` (the tag is one of the mapping's and the value matches
//!   the mapped subtype) `else` (the base schema, which reports the missing tag). Reached as an
//!   `allOf` member (a subtype including its base), `$ref` points at a copy without the
//!   dispatch (`<Name>__base`), which breaks the base ↔ subtype cycle;
//! - `nullable: true` adds `"null"` to `type` (and to `enum`);
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` become draft 7's numeric ones;
//! - `format: int32`/`int64` become bounds; `uri` and `uuid` stay formats (`uuid` registered,
//!   as draft 7 does not know it); other formats are dropped, as [`crate::spec`] ignores them;
//! - `minLength`/`maxLength` count code points in JSON Schema; with [`LengthUnit::Utf16`] they
//!   become custom keywords counting UTF-16 code units, as LINE does.
//!
//! Keywords outside the subset LINE's specs use fail the translation, as in [`crate::spec`].

use std::collections::HashMap;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::Location;
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{json, Map, Value};

use crate::spec::{utf16_len, yaml_to_json, SpecError, Violation};

/// How `minLength`/`maxLength` are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LengthUnit {
    /// JSON Schema's own keywords: Unicode code points.
    CodePoints,
    /// LINE's count, UTF-16 code units, through custom keywords.
    Utf16,
}

const UTF16_MIN_LENGTH: &str = "x-utf16MinLength";
const UTF16_MAX_LENGTH: &str = "x-utf16MaxLength";
const BASE_SUFFIX: &str = "__base";
const SCHEMAS_PREFIX: &str = "#/components/schemas/";

/// Keywords that only annotate: dropped.
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

/// Keywords whose value is copied unchanged.
const COPIED: &[&str] = &[
    "type",
    "required",
    "minItems",
    "maxItems",
    "uniqueItems",
    "pattern",
    "enum",
];

/// Compiled validators of some named schemas of one OpenAPI document.
pub struct JsonSchemaSpec {
    validators: HashMap<String, Validator>,
}

impl std::fmt::Debug for JsonSchemaSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.validators.keys().collect();
        names.sort();
        f.debug_struct("JsonSchemaSpec")
            .field("schemas", &names)
            .finish()
    }
}

fn unsupported(pointer: &str, reason: impl Into<String>) -> SpecError {
    SpecError::Unsupported {
        pointer: pointer.to_owned(),
        reason: reason.into(),
    }
}

struct Translator<'a> {
    schemas: &'a Map<String, Value>,
    unit: LengthUnit,
}

impl Translator<'_> {
    /// `definitions` of the translated document: every component schema, plus a `__base`
    /// copy without dispatch of each one with a discriminator.
    fn definitions(&self) -> Result<Map<String, Value>, SpecError> {
        let mut defs = Map::new();
        for (name, schema) in self.schemas {
            let ptr = format!("/components/schemas/{name}");
            let own = format!("{SCHEMAS_PREFIX}{name}");
            defs.insert(name.clone(), self.schema(schema, &ptr, false, Some(&own))?);
            if schema.get("discriminator").is_some() {
                let base = self.schema(schema, &ptr, true, None)?;
                defs.insert(format!("{name}{BASE_SUFFIX}"), base);
            }
        }
        Ok(defs)
    }

    fn reference(&self, reference: &str, as_base: bool) -> Result<Value, SpecError> {
        let name = reference
            .strip_prefix(SCHEMAS_PREFIX)
            .filter(|n| self.schemas.contains_key(*n))
            .ok_or_else(|| SpecError::BadRef(reference.to_owned()))?;
        let dispatches = self.schemas[name].get("discriminator").is_some();
        let suffix = if as_base && dispatches {
            BASE_SUFFIX
        } else {
            ""
        };
        Ok(json!({ "$ref": format!("#/definitions/{name}{suffix}") }))
    }

    /// Translates one Schema Object. `as_base`: reached as an `allOf` member. `own`: the
    /// schema's own `$ref`, so that a mapping back to itself does not dispatch again.
    fn schema(
        &self,
        schema: &Value,
        ptr: &str,
        as_base: bool,
        own: Option<&str>,
    ) -> Result<Value, SpecError> {
        let obj = schema
            .as_object()
            .ok_or_else(|| unsupported(ptr, "a schema must be an object"))?;
        if let Some(reference) = obj.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| unsupported(ptr, "$ref must be a string"))?;
            return self.reference(reference, as_base);
        }
        let mut out = Map::new();
        for (key, value) in obj {
            self.keyword(key, value, obj, &format!("{ptr}/{key}"), &mut out)?;
        }
        if obj.get("nullable") == Some(&Value::Bool(true)) {
            admit_null(&mut out);
        }
        match obj.get("discriminator") {
            Some(d) if !as_base => self.dispatch(d, Value::Object(out), own, ptr),
            _ => Ok(Value::Object(out)),
        }
    }

    fn keyword(
        &self,
        key: &str,
        value: &Value,
        obj: &Map<String, Value>,
        ptr: &str,
        out: &mut Map<String, Value>,
    ) -> Result<(), SpecError> {
        match key {
            k if COPIED.contains(&k) => {
                out.insert(k.to_owned(), value.clone());
            }
            "properties" => {
                let props = value
                    .as_object()
                    .ok_or_else(|| unsupported(ptr, "properties must be an object"))?;
                let mut translated = Map::new();
                for (name, sub) in props {
                    let sub = self.schema(sub, &format!("{ptr}/{name}"), false, None)?;
                    translated.insert(name.clone(), sub);
                }
                out.insert(key.to_owned(), Value::Object(translated));
            }
            "additionalProperties" => {
                let v = match value {
                    Value::Bool(_) => value.clone(),
                    sub => self.schema(sub, ptr, false, None)?,
                };
                out.insert(key.to_owned(), v);
            }
            "items" | "not" => {
                out.insert(key.to_owned(), self.schema(value, ptr, false, None)?);
            }
            "allOf" | "oneOf" | "anyOf" => {
                let members = value
                    .as_array()
                    .ok_or_else(|| unsupported(ptr, "must be an array"))?;
                let as_base = key == "allOf";
                let translated = members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| self.schema(m, &format!("{ptr}/{i}"), as_base, None))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.to_owned(), Value::Array(translated));
            }
            "minLength" | "maxLength" => self.length(key, value, out),
            "minimum" | "maximum" => bound(key, value, obj, out),
            "format" => format(value, obj, ptr, out)?,
            "nullable" | "discriminator" | "exclusiveMinimum" | "exclusiveMaximum" => {}
            k if ANNOTATIONS.contains(&k) || k.starts_with("x-") => {}
            other => {
                return Err(unsupported(
                    ptr,
                    format!("keyword {other:?} is not supported"),
                ))
            }
        }
        Ok(())
    }

    fn length(&self, key: &str, value: &Value, out: &mut Map<String, Value>) {
        let name = match (self.unit, key) {
            (LengthUnit::CodePoints, k) => k,
            (LengthUnit::Utf16, "minLength") => UTF16_MIN_LENGTH,
            (LengthUnit::Utf16, _) => UTF16_MAX_LENGTH,
        };
        out.insert(name.to_owned(), value.clone());
    }

    /// `if` the tag is a string, `then` it must be a mapped one and the value must match the
    /// mapped subtype, `else` the base schema applies (and reports a missing tag).
    fn dispatch(
        &self,
        discriminator: &Value,
        base: Value,
        own: Option<&str>,
        ptr: &str,
    ) -> Result<Value, SpecError> {
        let property = discriminator
            .get("propertyName")
            .and_then(Value::as_str)
            .ok_or_else(|| unsupported(ptr, "discriminator without propertyName"))?;
        let mapping = discriminator
            .get("mapping")
            .and_then(Value::as_object)
            .ok_or_else(|| unsupported(ptr, "discriminator without mapping"))?;
        let mut branches = Vec::new();
        for (tag, reference) in mapping {
            let reference = reference
                .as_str()
                .ok_or_else(|| unsupported(ptr, "mapping values must be $refs"))?;
            let target = if Some(reference) == own {
                base.clone()
            } else {
                self.reference(reference, false)?
            };
            branches.push(json!({
                "if": { "properties": { property: { "const": tag } } },
                "then": target,
            }));
        }
        let tags: Vec<&String> = mapping.keys().collect();
        Ok(json!({
            "if": { "type": "object", "required": [property],
                    "properties": { property: { "type": "string" } } },
            "then": { "properties": { property: { "enum": tags } }, "allOf": branches },
            "else": base,
        }))
    }
}

fn admit_null(out: &mut Map<String, Value>) {
    if let Some(Value::String(ty)) = out.get("type") {
        let types = json!([ty, "null"]);
        out.insert("type".to_owned(), types);
    }
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        values.push(Value::Null);
    }
}

/// OpenAPI 3.0's boolean `exclusiveMinimum` qualifies `minimum`; draft 7's is the bound.
fn bound(key: &str, value: &Value, obj: &Map<String, Value>, out: &mut Map<String, Value>) {
    let flag = if key == "minimum" {
        "exclusiveMinimum"
    } else {
        "exclusiveMaximum"
    };
    let name = if obj.get(flag) == Some(&Value::Bool(true)) {
        flag
    } else {
        key
    };
    out.insert(name.to_owned(), value.clone());
}

fn format(
    value: &Value,
    obj: &Map<String, Value>,
    ptr: &str,
    out: &mut Map<String, Value>,
) -> Result<(), SpecError> {
    let integer = obj.get("type").and_then(Value::as_str) == Some("integer");
    let range = match value.as_str() {
        Some(f @ ("uri" | "uuid")) => {
            out.insert("format".to_owned(), json!(f));
            return Ok(());
        }
        Some("int32") if integer => json!({ "minimum": i32::MIN, "maximum": i32::MAX }),
        Some("int64") if integer => json!({ "minimum": i64::MIN, "maximum": i64::MAX }),
        Some(_) => return Ok(()),
        None => return Err(unsupported(ptr, "format must be a string")),
    };
    // Bounds of the format beside the schema's own minimum/maximum.
    match out.get_mut("allOf") {
        Some(Value::Array(members)) => members.push(range),
        _ => {
            out.insert("allOf".to_owned(), json!([range]));
        }
    }
    Ok(())
}

/// A string length bound counted in UTF-16 code units.
struct Utf16Length {
    bound: usize,
    max: bool,
}

impl<'i> jsonschema::Keyword<'i> for Utf16Length {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        let relation = if self.max { "at most" } else { "at least" };
        Err(ValidationError::custom(format!(
            "Length must be {relation} {} UTF-16 code units",
            self.bound
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        let Some(s) = instance.as_str() else {
            return true;
        };
        let len = utf16_len(s);
        if self.max {
            len <= self.bound
        } else {
            len >= self.bound
        }
    }
}

type KeywordResult<'a> = Result<Box<dyn for<'i> jsonschema::Keyword<'i>>, ValidationError<'a>>;

fn utf16_length(value: &Value, max: bool) -> KeywordResult<'static> {
    let bound = value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ValidationError::custom("a length must be a non-negative integer"))?;
    Ok(Box::new(Utf16Length { bound, max }))
}

fn utf16_min_length<'a>(
    _: &'a Map<String, Value>,
    value: &'a Value,
    _: Location,
) -> KeywordResult<'a> {
    utf16_length(value, false)
}

fn utf16_max_length<'a>(
    _: &'a Map<String, Value>,
    value: &'a Value,
    _: Location,
) -> KeywordResult<'a> {
    utf16_length(value, true)
}

/// `messages/0/text` (a JSON pointer) → `messages[0].text` (LINE's notation).
fn line_path(pointer: &str) -> String {
    let mut path = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            path.push_str(&format!("[{token}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&token);
        }
    }
    path
}

fn violation(error: &ValidationError<'_>) -> Violation {
    let mut property = line_path(error.instance_path().as_str());
    if let ValidationErrorKind::Required {
        property: Value::String(missing),
    } = error.kind()
    {
        if !property.is_empty() {
            property.push('.');
        }
        property.push_str(missing);
    }
    Violation {
        message: error.to_string(),
        property,
    }
}

impl JsonSchemaSpec {
    /// Translates an OpenAPI document's `components.schemas` and builds a validator for each
    /// of `names`.
    pub fn from_yaml(text: &str, names: &[&str], unit: LengthUnit) -> Result<Self, SpecError> {
        let doc = yaml_to_json(serde_yaml::from_str(text)?);
        let empty = Map::new();
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let defs = Translator { schemas, unit }.definitions()?;
        let mut validators = HashMap::new();
        for name in names {
            if !defs.contains_key(*name) {
                return Err(SpecError::NoSuchSchema((*name).to_owned()));
            }
            let root = json!({
                "allOf": [{ "$ref": format!("#/definitions/{name}") }],
                "definitions": defs,
            });
            let validator = jsonschema::options()
                .with_draft(Draft::Draft7)
                .should_validate_formats(true)
                .with_format("uuid", |s: &str| uuid::Uuid::try_parse(s).is_ok())
                .with_keyword(UTF16_MIN_LENGTH, utf16_min_length)
                .with_keyword(UTF16_MAX_LENGTH, utf16_max_length)
                .build(&root)
                .map_err(|e| unsupported(&format!("/components/schemas/{name}"), e.to_string()))?;
            validators.insert((*name).to_owned(), validator);
        }
        Ok(Self { validators })
    }

    /// Every violation of the named schema by `value` (empty when valid).
    pub fn validate(&self, name: &str, value: &Value) -> Result<Vec<Violation>, SpecError> {
        let validator = self
            .validators
            .get(name)
            .ok_or_else(|| SpecError::NoSuchSchema(name.to_owned()))?;
        Ok(validator
            .iter_errors(value)
            .map(|e| violation(&e))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_line_paths() {
        assert_eq!(line_path(""), "");
        assert_eq!(line_path("/messages/0/text"), "messages[0].text");
        assert_eq!(
            line_path("/messages/1/quickReply/items/12"),
            "messages[1].quickReply.items[12]"
        );
    }
}
