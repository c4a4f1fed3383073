//! The `log` capability: plugin log lines go to the host's tracing log,
//! tagged with tenant, integration and plugin, with bounded size and count.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::log::{self as wit, Host, Level};

use super::{InvocationState, LogTags};

/// Longest message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 2048;
/// Fields kept per line, and characters per key or value.
const MAX_FIELDS: usize = 32;
const MAX_FIELD_CHARS: usize = 256;
/// Lines accepted per invocation; the rest are counted and dropped.
const MAX_LINES: u32 = 10_000;

/// The `log` capability's state for one invocation: who is logging, and
/// how many lines it wrote and had dropped.
#[derive(Debug, Default)]
pub struct LogState {
    tags: LogTags,
    written: u32,
    dropped: u32,
}

/// Links the `log` interface over the state `get` returns.
pub fn add_to_linker(
    linker: &mut Linker<InvocationState>,
    get: fn(&mut InvocationState) -> &mut LogState,
) -> anyhow::Result<()> {
    Ok(wit::add_to_linker::<InvocationState, HasSelf<LogState>>(
        linker, get,
    )?)
}

impl LogState {
    pub fn new(tags: LogTags) -> LogState {
        LogState {
            tags,
            ..LogState::default()
        }
    }

    /// True if one more line may be written.
    fn admit(&mut self) -> bool {
        if self.written < MAX_LINES {
            self.written += 1;
            true
        } else {
            self.dropped += 1;
            false
        }
    }

    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// Renders plugin fields as `k=v` pairs, bounded; control characters are
/// escaped so a plugin cannot forge extra log lines.
pub fn render_fields(fields: &[(String, String)]) -> String {
    let mut out: Vec<String> = fields
        .iter()
        .take(MAX_FIELDS)
        .map(|(k, v)| {
            format!(
                "{}={:?}",
                truncate(k, MAX_FIELD_CHARS).escape_debug(),
                truncate(v, MAX_FIELD_CHARS)
            )
        })
        .collect();
    if fields.len() > MAX_FIELDS {
        out.push(format!("(+{} fields dropped)", fields.len() - MAX_FIELDS));
    }
    out.join(" ")
}

pub fn render_message(message: &str) -> String {
    truncate(message, MAX_MESSAGE_CHARS)
        .escape_debug()
        .to_string()
}

impl Host for LogState {
    async fn write(
        &mut self,
        level: Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        if !self.admit() {
            return Ok(());
        }
        let tags = &self.tags;
        let message = render_message(&message);
        let fields = render_fields(&fields);
        macro_rules! emit {
            ($lvl:expr) => {
                tracing::event!(
                    target: "oort::plugin",
                    $lvl,
                    tenant = %tags.tenant,
                    integration = %tags.integration,
                    plugin = %tags.plugin,
                    fields = %fields,
                    "{message}"
                )
            };
        }
        match level {
            Level::Trace => emit!(tracing::Level::TRACE),
            Level::Debug => emit!(tracing::Level::DEBUG),
            Level::Info => emit!(tracing::Level::INFO),
            Level::Warn => emit!(tracing::Level::WARN),
            Level::Error => emit!(tracing::Level::ERROR),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_capped_and_newlines_escaped() {
        let long = "a".repeat(5000);
        assert_eq!(render_message(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            render_message("line1\nFAKE host line"),
            "line1\\nFAKE host line"
        );
    }

    #[test]
    fn fields_are_bounded() {
        let fields: Vec<(String, String)> =
            (0..40).map(|i| (format!("k{i}"), "v".into())).collect();
        let rendered = render_fields(&fields);
        assert!(rendered.starts_with("k0=\"v\" k1=\"v\""));
        assert!(rendered.ends_with("(+8 fields dropped)"));
    }

    #[test]
    fn budget_drops_lines_beyond_the_limit() {
        let mut budget = LogState {
            written: MAX_LINES - 1,
            ..LogState::default()
        };
        assert!(budget.admit());
        assert!(!budget.admit());
        assert_eq!(budget.dropped(), 1);
    }
}
