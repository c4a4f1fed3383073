//! Why the sandbox stopped a plugin, phrased to name the limit.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("plugin `{plugin}` exceeded its memory limit of {}", human_bytes(*.limit_bytes))]
    Memory { plugin: String, limit_bytes: u64 },
    #[error("plugin `{plugin}` exceeded its {} deadline for {operation}", human_duration(*.limit))]
    Deadline {
        plugin: String,
        limit: Duration,
        operation: &'static str,
    },
    #[error(
        "plugin `{plugin}` used its CPU budget of {} for {operation} (time its own code ran, not counting waits for the host)",
        human_duration(*.limit)
    )]
    Cpu {
        plugin: String,
        limit: Duration,
        operation: &'static str,
    },
    #[error("plugin `{plugin}` used its budget of {limit} HTTP requests ({outcome})")]
    HttpBudget {
        plugin: String,
        limit: u32,
        outcome: String,
    },
    #[error(
        "plugin `{plugin}` tried to hand the host more than {} in one call",
        human_bytes(*.limit_bytes)
    )]
    Transfer { plugin: String, limit_bytes: u64 },
    #[error("plugin `{plugin}` trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin `{plugin}` could not be started: {message}")]
    Instantiate { plugin: String, message: String },
    #[error(
        "plugin `{plugin}` was stopped between pages of {operation}: the host is shutting down (what was committed stays; the next run resumes from the checkpoint)"
    )]
    Stopped {
        plugin: String,
        operation: &'static str,
    },
}

impl SandboxError {
    /// What stopped the plugin, as one word (a metric label).
    pub fn reason(&self) -> &'static str {
        match self {
            SandboxError::Memory { .. } => "memory",
            SandboxError::Deadline { .. } => "deadline",
            SandboxError::Cpu { .. } => "cpu",
            SandboxError::HttpBudget { .. } => "http_budget",
            SandboxError::Transfer { .. } => "transfer",
            SandboxError::Trap { .. } => "trap",
            SandboxError::Instantiate { .. } => "instantiate",
            SandboxError::Stopped { .. } => "stopping",
        }
    }
}

/// "64 MiB", "512 KiB", "1000 bytes".
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// "30 s", "250 ms", "2 min".
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit() {
        let p = || "duo".to_string();
        assert_eq!(
            SandboxError::Memory {
                plugin: p(),
                limit_bytes: 64 << 20
            }
            .to_string(),
            "plugin `duo` exceeded its memory limit of 64 MiB"
        );
        assert_eq!(
            SandboxError::Deadline {
                plugin: p(),
                limit: Duration::from_secs(30),
                operation: "test-connectivity"
            }
            .to_string(),
            "plugin `duo` exceeded its 30 s deadline for test-connectivity"
        );
        assert_eq!(
            SandboxError::HttpBudget {
                plugin: p(),
                limit: 5,
                outcome: "it then trapped".into()
            }
            .to_string(),
            "plugin `duo` used its budget of 5 HTTP requests (it then trapped)"
        );
        assert_eq!(
            SandboxError::Transfer {
                plugin: p(),
                limit_bytes: 64 << 20
            }
            .to_string(),
            "plugin `duo` tried to hand the host more than 64 MiB in one call"
        );
        let stopped = SandboxError::Stopped {
            plugin: p(),
            operation: "collect",
        };
        assert_eq!(stopped.reason(), "stopping");
        assert!(
            stopped
                .to_string()
                .starts_with("plugin `duo` was stopped between pages of collect"),
            "{stopped}"
        );
        assert!(
            SandboxError::Trap {
                plugin: p(),
                message: "wasm `unreachable` instruction executed".into()
            }
            .to_string()
            .contains("trapped: wasm `unreachable`")
        );
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes(512 << 10), "512 KiB");
        assert_eq!(human_bytes(1536), "1536 bytes");
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_secs(120)), "2 min");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 s");
    }
}
