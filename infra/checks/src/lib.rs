//! Reads `infra/template.yaml` as data, so tests can check what cfn-lint and
//! `sam validate --lint` do not: that IAM is scoped to the stack's own resources, that the
//! SQS event source reports partial batch failures (a misspelt `FunctionResponseTypes`
//! passes both linters), that queue and table settings hold.
//!
//! The template uses CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...);
//! serde_yaml keeps them as [`Value::Tagged`]. The long forms (`Ref:`, `Fn::GetAtt:`,
//! `Fn::Sub:`) are understood too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod checks;
pub use checks::*;

pub use serde_yaml::Value;

/// Actions AWS documents as not supporting resource-level permissions, so an Allow
/// statement for them has to say `Resource: '*'`. Nothing in the template needs them
/// today; they are listed so that turning on X-Ray tracing or direct metric calls later
/// does not mean weakening the check:
/// - `xray:PutTraceSegments`, `xray:PutTelemetryRecords`: X-Ray's service authorization
///   reference lists no resource types for them (what `Tracing: Active` needs).
/// - `cloudwatch:PutMetricData`: no resource types either (the sender uses embedded metric
///   format in its logs instead).
pub const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: &[&str] = &[
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
];

/// DynamoDB's PartiQL write actions; no role may have them.
pub const PARTIQL_WRITE_ACTIONS: &[&str] = &[
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template has no `Resources` mapping")]
    NoResources,
}

/// A parsed CloudFormation / SAM template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// One IAM policy statement, wherever in the template it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Logical id of the resource holding the policy (a role, a bucket policy, ...).
    pub owner: String,
    pub sid: Option<String>,
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<Value>,
    /// `NotAction` / `NotResource` present: an Allow with them grants "everything but".
    pub uses_negation: bool,
}

impl Statement {
    pub fn is_allow(&self) -> bool {
        self.effect == "Allow"
    }

    /// Logical ids and parameters the statement's resources refer to.
    pub fn referenced_ids(&self) -> BTreeSet<String> {
        self.resources.iter().flat_map(referenced_ids).collect()
    }
}

impl Template {
    pub fn parse(yaml: &str) -> Result<Self, TemplateError> {
        let root: Value = serde_yaml::from_str(yaml)?;
        if !matches!(root.get("Resources"), Some(Value::Mapping(_))) {
            return Err(TemplateError::NoResources);
        }
        Ok(Self { root })
    }

    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let yaml = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&yaml)
    }

    /// The repository's `infra/template.yaml`.
    pub fn kizuna() -> Result<Self, TemplateError> {
        Self::load(&kizuna_template_path())
    }

    /// A number written literally or as `!Ref Parameter` (its `Default`).
    pub fn number(&self, value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            Value::Tagged(tagged) if tagged.tag == "Ref" => {
                let name = tagged.value.as_str()?;
                self.number(self.root.get("Parameters")?.get(name)?.get("Default")?)
            }
            _ => None,
        }
    }

    /// Logical ids of the `AWS::Serverless::Function`s.
    pub fn functions(&self) -> Vec<&str> {
        self.ids_of_type("AWS::Serverless::Function")
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Logical ids and bodies of all resources, in template order.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.root.get("Resources")?.get(logical_id)
    }

    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resource(logical_id)?.get("Type")?.as_str()
    }

    pub fn ids_of_type(&self, resource_type: &str) -> Vec<&str> {
        self.resources()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
            .map(|(id, _)| id)
            .collect()
    }

    /// `Properties.<path...>` of a resource.
    pub fn property(&self, logical_id: &str, path: &[&str]) -> Option<&Value> {
        let mut value = self.resource(logical_id)?.get("Properties")?;
        for key in path {
            value = value.get(*key)?;
        }
        Some(value)
    }

    /// A function property, falling back to `Globals.Function` as SAM does.
    pub fn function_property(&self, logical_id: &str, key: &str) -> Option<&Value> {
        self.property(logical_id, &[key])
            .or_else(|| self.root.get("Globals")?.get("Function")?.get(key))
    }

    /// The logical id of the `AWS::IAM::Role` a function runs as (`Role: !GetAtt X.Arn`).
    pub fn role_of_function(&self, function_id: &str) -> Option<String> {
        let role = self.property(function_id, &["Role"])?;
        let ids = referenced_ids(role);
        let mut roles = ids
            .into_iter()
            .filter(|id| self.resource_type(id) == Some("AWS::IAM::Role"));
        let first = roles.next()?;
        roles.next().is_none().then_some(first)
    }

    /// Every policy statement in the template: inline role policies, standalone policies,
    /// bucket and queue policies, and SAM function `Policies` written as statements.
    pub fn statements(&self) -> Vec<Statement> {
        let mut out = Vec::new();
        for (id, resource) in self.resources() {
            let Some(props) = resource.get("Properties") else {
                continue;
            };
            let documents: Vec<&Value> = match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::IAM::Role") => props
                    .get("Policies")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("PolicyDocument"))
                    .collect(),
                Some(
                    "AWS::IAM::Policy"
                    | "AWS::IAM::ManagedPolicy"
                    | "AWS::S3::BucketPolicy"
                    | "AWS::SQS::QueuePolicy",
                ) => props.get("PolicyDocument").into_iter().collect(),
                Some("AWS::SecretsManager::ResourcePolicy") => {
                    props.get("ResourcePolicy").into_iter().collect()
                }
                Some("AWS::Serverless::Function") => props
                    .get("Policies")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter(|p| p.get("Statement").is_some())
                    .collect(),
                _ => Vec::new(),
            };
            for document in documents {
                out.extend(statements_of_document(id, document));
            }
        }
        out
    }

    pub fn statements_of(&self, owner: &str) -> Vec<Statement> {
        self.statements()
            .into_iter()
            .filter(|s| s.owner == owner)
            .collect()
    }
}

/// Problems with the scope of Allow statements; empty means every Allow names specific
/// actions on resources defined by (or parameterised in) the template.
pub fn iam_scope_violations(template: &Template) -> Vec<String> {
    let mut violations = Vec::new();
    for statement in template.statements().iter().filter(|s| s.is_allow()) {
        let at = format!(
            "{} / {}",
            statement.owner,
            statement.sid.as_deref().unwrap_or("(no Sid)")
        );
        if statement.uses_negation {
            violations.push(format!("{at}: Allow with NotAction/NotResource"));
        }
        for action in &statement.actions {
            if action.contains('*') {
                violations.push(format!("{at}: wildcard action `{action}`"));
            }
            // PartiQL statements bypass what the adapters' conditional writes guarantee,
            // and no code uses them: a role that gains them gains a second write path.
            if PARTIQL_WRITE_ACTIONS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(action))
            {
                violations.push(format!("{at}: PartiQL write action `{action}`"));
            }
        }
        if statement.actions.is_empty() {
            violations.push(format!("{at}: no actions named"));
        }
        for resource in &statement.resources {
            match resource {
                Value::String(literal) if literal == "*" => {
                    let all_exempt = statement
                        .actions
                        .iter()
                        .all(|a| ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.contains(&a.as_str()));
                    if !all_exempt {
                        violations.push(format!(
                            "{at}: Resource '*' for actions that support resource-level permissions"
                        ));
                    }
                }
                Value::String(literal) => violations.push(format!(
                    "{at}: literal resource `{literal}` (name the stack's own resource with !Ref/!GetAtt/!Sub)"
                )),
                other => {
                    for template in sub_templates(other) {
                        if let Some(problem) = unscoped_wildcard(&template) {
                            violations.push(format!("{at}: {problem} in `{template}`"));
                        }
                    }
                    if referenced_ids(other).is_empty() {
                        violations.push(format!(
                            "{at}: resource {other:?} refers to nothing in the template"
                        ));
                    }
                }
            }
        }
    }
    violations
}

/// A `*` in a `!Sub` ARN is fine only when it extends a template-defined prefix
/// (`${Bucket.Arn}/*`, `secret:${SecretPrefix}*`); `table/*` or `:*:` are not.
fn unscoped_wildcard(sub: &str) -> Option<String> {
    for (i, _) in sub.match_indices('*') {
        let before = sub[..i].trim_end_matches('/');
        let prefix = before
            .strip_suffix('}')
            .and_then(|b| b.rfind("${").map(|start| &b[start + 2..]));
        match prefix {
            None => {
                return Some(format!(
                    "wildcard at byte {i} not directly after a ${{...}} prefix"
                ))
            }
            // `${AWS::AccountId}/*` scopes nothing the stack owns.
            Some(name) if name.starts_with("AWS::") => {
                return Some(format!(
                    "wildcard at byte {i} after pseudo parameter {name}"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// Names a value refers to: `!Ref X`, `!GetAtt X.Attr`, `${X}` / `${X.Attr}` in `!Sub`
/// (pseudo parameters `AWS::...` excluded), at any depth.
pub fn referenced_ids(value: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    collect_references(value, &mut ids);
    ids
}

fn collect_references(value: &Value, ids: &mut BTreeSet<String>) {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            match (tag.trim_start_matches('!'), &tagged.value) {
                ("Ref", Value::String(name)) => add_name(name, ids),
                ("GetAtt", Value::String(path)) => {
                    add_name(path.split('.').next().unwrap_or(path), ids)
                }
                ("GetAtt", Value::Sequence(parts)) => {
                    if let Some(name) = parts.first().and_then(Value::as_str) {
                        add_name(name, ids);
                    }
                }
                ("Sub", inner) => collect_sub(inner, ids),
                (_, inner) => collect_references(inner, ids),
            }
        }
        Value::Mapping(mapping) if mapping.len() == 1 => {
            let (key, inner) = mapping.iter().next().expect("len is 1");
            match (key.as_str(), inner) {
                (Some("Ref"), Value::String(name)) => add_name(name, ids),
                (Some("Fn::GetAtt"), Value::Sequence(parts)) => {
                    if let Some(name) = parts.first().and_then(Value::as_str) {
                        add_name(name, ids);
                    }
                }
                (Some("Fn::GetAtt"), Value::String(path)) => {
                    add_name(path.split('.').next().unwrap_or(path), ids)
                }
                (Some("Fn::Sub"), inner) => collect_sub(inner, ids),
                _ => collect_references(inner, ids),
            }
        }
        Value::Mapping(mapping) => mapping.values().for_each(|v| collect_references(v, ids)),
        Value::Sequence(items) => items.iter().for_each(|v| collect_references(v, ids)),
        _ => {}
    }
}

/// `!Sub "..."` or `!Sub ["...", {Var: value}]`: variables defined in the map are local,
/// but their values are followed.
fn collect_sub(inner: &Value, ids: &mut BTreeSet<String>) {
    let (template, locals) = match inner {
        Value::String(s) => (s.as_str(), None),
        Value::Sequence(parts) => match (parts.first().and_then(Value::as_str), parts.get(1)) {
            (Some(s), locals) => (s, locals.and_then(Value::as_mapping)),
            (None, _) => return,
        },
        _ => return,
    };
    for name in sub_variables(template) {
        let head = name.split('.').next().unwrap_or(&name).to_owned();
        let is_local = locals.is_some_and(|m| m.contains_key(head.as_str()));
        if !is_local {
            add_name(&head, ids);
        }
    }
    if let Some(locals) = locals {
        locals.values().for_each(|v| collect_references(v, ids));
    }
}

fn sub_variables(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        // `${!Literal}` is an escaped, literal `${Literal}`.
        if !name.starts_with('!') {
            names.push(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

/// The `!Sub` template strings inside a value (used for wildcard checks).
fn sub_templates(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match value {
        Value::Tagged(tagged) if tagged.tag == "Sub" => match &tagged.value {
            Value::String(s) => out.push(s.clone()),
            Value::Sequence(parts) => {
                out.extend(parts.first().and_then(Value::as_str).map(str::to_owned))
            }
            _ => {}
        },
        Value::Mapping(m) if m.len() == 1 && m.contains_key("Fn::Sub") => match m.get("Fn::Sub") {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Sequence(parts)) => {
                out.extend(parts.first().and_then(Value::as_str).map(str::to_owned))
            }
            _ => {}
        },
        Value::Tagged(tagged) => out.extend(sub_templates(&tagged.value)),
        Value::Sequence(items) => items.iter().for_each(|v| out.extend(sub_templates(v))),
        Value::Mapping(m) => m.values().for_each(|v| out.extend(sub_templates(v))),
        _ => {}
    }
    out
}

fn add_name(name: &str, ids: &mut BTreeSet<String>) {
    if !name.starts_with("AWS::") {
        ids.insert(name.to_owned());
    }
}

fn statements_of_document(owner: &str, document: &Value) -> Vec<Statement> {
    let statements = match document.get("Statement") {
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(single @ Value::Mapping(_)) => vec![single],
        _ => Vec::new(),
    };
    statements
        .into_iter()
        .map(|s| Statement {
            owner: owner.to_owned(),
            sid: s.get("Sid").and_then(Value::as_str).map(str::to_owned),
            effect: s
                .get("Effect")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            actions: one_or_many(s.get("Action"))
                .into_iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            resources: one_or_many(s.get("Resource"))
                .into_iter()
                .cloned()
                .collect(),
            uses_negation: s.get("NotAction").is_some() || s.get("NotResource").is_some(),
        })
        .collect()
}

/// IAM allows a single value or a list for `Action` and `Resource`.
fn one_or_many(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// `infra/template.yaml` of this repository.
pub fn kizuna_template_path() -> PathBuf {
    repo_root().join("infra/template.yaml")
}

/// The workspace root (this crate lives at `infra/checks`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("infra/checks has two ancestors")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn references_follow_short_and_long_forms() {
        let value = yaml(
            r#"
- !Ref A
- !GetAtt B.Arn
- !Sub "${C.Arn}/index/x:${AWS::Region}:${D}"
- Fn::GetAtt: [E, Arn]
- Ref: F
- Fn::Sub: ["${Local}-${G}", { Local: !Ref H }]
- !Sub "${!NotARef}"
"#,
        );
        let ids: Vec<_> = referenced_ids(&value).into_iter().collect();
        assert_eq!(ids, ["A", "B", "C", "D", "E", "F", "G", "H"]);
    }

    #[test]
    fn wildcard_must_extend_a_template_prefix() {
        assert_eq!(unscoped_wildcard("${Bucket.Arn}/*"), None);
        assert_eq!(unscoped_wildcard("arn:x:secret:${SecretPrefix}*"), None);
        assert!(unscoped_wildcard("arn:${AWS::Partition}:dynamodb:*:table/x").is_some());
        assert!(
            unscoped_wildcard("arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*")
                .is_some()
        );
        assert!(unscoped_wildcard("arn:aws:s3:::${AWS::AccountId}/*").is_some());
    }
}
