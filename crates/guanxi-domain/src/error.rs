//! Validation errors carry a field path, a stable machine code and a message key, so the web
//! layer can localise them (zh-CN / en) without the domain knowing about languages.

use serde::Serialize;

/// One thing wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ValidationError {
    /// Dotted path of the offending field, e.g. `contact_points[1].value`.
    pub field: String,
    /// Stable machine-readable code, e.g. `invalid_phone`.
    pub code: String,
    /// Key into the message catalogue; usually equal to `code`.
    #[serde(skip)]
    pub message_key: &'static str,
}

impl ValidationError {
    /// Builds an error whose message key equals its code, the common case.
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            code: code.to_string(),
            message_key: code,
        }
    }

    /// Re-roots the field path under a parent, so nested validators compose.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// All problems found in one input, so a user fixes them in one round trip, not one per error.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// An empty collector.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Records one problem.
    pub fn push(&mut self, field: impl Into<String>, code: &'static str) {
        self.0.push(ValidationError::new(field, code));
    }

    /// Takes a nested result, keeping its value on success and its errors (re-rooted) on failure.
    pub fn take<T>(&mut self, parent: &str, r: Result<T, ValidationErrors>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.0.into_iter().map(|x| x.under(parent)));
                None
            }
        }
    }

    /// Takes a single-field result, naming the field on failure.
    pub fn field<T>(&mut self, field: &str, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(code) => {
                self.push(field, code);
                None
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok(value) when nothing was recorded, else the collected errors.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// A single-error collection, for checks that stand alone.
    pub fn single(field: impl Into<String>, code: &'static str) -> Self {
        Self(vec![ValidationError::new(field, code)])
    }

    /// Two independent checks of one input (a record's fields and its custom fields) as one
    /// answer: both values, or every problem either found, so the form shows them all at once.
    pub fn both<A, B>(
        a: Result<A, ValidationErrors>,
        b: Result<B, ValidationErrors>,
    ) -> Result<(A, B), ValidationErrors> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (a, b) => {
                let mut e = a.err().unwrap_or_default();
                e.0.extend(b.err().unwrap_or_default().0);
                Err(e)
            }
        }
    }
}
