//! Causes kept in errors: the library's own error value (bollard's, the AWS SDK's, reqwest's)
//! boxed so its type does not leave the module that met it, or words when there is no value.
//! A leaf, so every module's errors can keep their `#[source]`.

/// Any error, kept as a cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A cause that is only words: what a server answered, a check that failed.
#[derive(Debug)]
pub struct Said(pub String);

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Said {}

/// Words as a cause.
pub fn said(words: impl Into<String>) -> BoxError {
    Box::new(Said(words.into()))
}
