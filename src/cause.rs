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

/// An error's message and its causes' (its `source()` chain), outermost first, each said once:
/// a cause whose words the message before it already contains is left out.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut said: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !said.last().is_some_and(|last| last.contains(&words)) {
            said.push(words);
        }
        source = cause.source();
    }
    said
}

/// Words as a cause.
pub fn said(words: impl Into<String>) -> BoxError {
    Box::new(Said(words.into()))
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("reading x failed: {0}")]
    struct Repeats(#[source] super::Said);

    #[derive(Debug, thiserror::Error)]
    #[error("publishing failed")]
    struct Outer(#[source] Repeats);

    #[test]
    fn a_chain_says_each_cause_once() {
        let e = Outer(Repeats(super::Said("timed out".into())));
        assert_eq!(super::chain(&e), ["publishing failed", "reading x failed: timed out"]);
    }
}
