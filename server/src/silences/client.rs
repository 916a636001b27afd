//! `pulseboard silence add | list | end`: the silences API from a shell, against a running
//! server (so the server's checks, its log and the one script that stores them are the same
//! whoever asks). The admin token comes from the environment, never the command line.

use pulseboard_shared::silence::{NewSilence, Silence, SilenceMatch};
use serde::Deserialize;

/// Why a silence command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error("cannot reach {url}: {why}")]
    Unreachable {
        /// The server.
        url: String,
        /// Why: the innermost cause (`Connection refused`), not reqwest's wrapping of it.
        why: String,
    },
    /// The server refused, in its words.
    #[error("the server answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its `error` field, or the body.
        message: String,
    },
    /// The answer is not the JSON it should be.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// A server and the token to present.
pub struct Client {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    /// The admin token (`None` for `list`, which needs none).
    pub token: Option<String>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct List {
    silences: Vec<Silence>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

impl Client {
    /// A client of the server at `base`.
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, ClientError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let unreachable = |e: reqwest::Error| {
            let mut cause: &dyn std::error::Error = &e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            ClientError::Unreachable {
                url: self.base.clone(),
                why: cause.to_string(),
            }
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            let message = serde_json::from_str::<ErrorBody>(&body).map_or(body, |e| e.error);
            return Err(ClientError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        Ok(body)
    }

    /// Sets a silence; the silence as stored.
    pub async fn add(&self, silence: &NewSilence) -> Result<Silence, ClientError> {
        let url = format!("{}/api/agent-office/silences", self.base);
        let body = self.send(self.http.post(url).json(silence)).await?;
        serde_json::from_str(&body).map_err(|e| ClientError::Unexpected(e.to_string()))
    }

    /// The silences in force.
    pub async fn list(&self) -> Result<Vec<Silence>, ClientError> {
        let url = format!("{}/api/agent-office/silences", self.base);
        let body = self.send(self.http.get(url)).await?;
        let list: List =
            serde_json::from_str(&body).map_err(|e| ClientError::Unexpected(e.to_string()))?;
        Ok(list.silences)
    }

    /// Ends silence `id`.
    pub async fn end(&self, id: &str) -> Result<(), ClientError> {
        let url = format!("{}/api/agent-office/silences/{id}", self.base);
        self.send(self.http.delete(url)).await.map(drop)
    }
}

/// One line about `s` at `now` (unix s): id, what, time left, maintenance, who, why.
pub fn line(s: &Silence, now: u64) -> String {
    let what = match &s.matches {
        SilenceMatch::Worker(w) => format!("worker {w}"),
        SilenceMatch::Host(h) => format!("host {h}"),
        SilenceMatch::Kind(k) => format!("kind {k}"),
    };
    let left = s.until.saturating_sub(now);
    let left = if left >= 3600 {
        format!("{}h{:02}m", left / 3600, left % 3600 / 60)
    } else {
        format!("{}m{:02}s", left / 60, left % 60)
    };
    let maintenance = if s.maintenance { " maintenance" } else { "" };
    format!(
        "{}  {what}  {left} left{maintenance}  by {}: {}",
        s.id,
        s.by,
        s.reason.escape_debug()
    )
}

/// Seconds in `text`: `90`, `90s`, `15m`, `2h`, `1d`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit).filter(|s| *s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1d"), Some(86_400));
        for bad in ["", "0", "h", "5w", "-1h", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_line_says_what_how_long_and_why() {
        let s = Silence {
            id: "s-0000000000000001".into(),
            matches: SilenceMatch::Host("gpu-01".into()),
            until: 1000 + 3720,
            reason: "disk\nswap".into(),
            maintenance: true,
            by: "ops".into(),
            created: 1000,
        };
        assert_eq!(
            line(&s, 1000),
            "s-0000000000000001  host gpu-01  1h02m left maintenance  by ops: disk\\nswap"
        );
    }
}
