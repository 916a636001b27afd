//! `pulseboard acl`: least-privilege Redis users, one role per kind of client, printed as the
//! `ACL SETUSER` line to paste into `redis-cli` (or the `user` line of an ACL file).
//!
//! A role is the commands its code sends and the keys it touches, built from the key functions
//! that code itself uses (`pulseboard_shared::{heartbeat, command, agent}`,
//! `pulseboard_worker::queue`, the ledger's [`Keys`](crate::ledger::store::Keys)): a key renamed
//! there is renamed here. The tests check that each role covers every key its code touches and
//! no other worker's or host's, and `tests/tests/acl.rs` runs each role against a real Redis.
//!
//! - [`roles`]: what each role may run and touch, and where in the code each command comes from.
//! - [`glob`]: Redis's key-pattern matching.
//!
//! The line starts with `reset` (no password, keys, channels or commands, off), so applying it
//! again replaces the user: a new password revokes the old one. Then `on`, the password as its
//! SHA-256 (`#...`: the line never holds the password itself), `-@all`, the commands one by one,
//! and the keys: `~pattern` read and write, `%R~pattern` read only, `%W~pattern` write only
//! (Redis 7.0). Names are refused unless made of letters, digits, `.`, `_` and `-` (a queue may
//! also have `:`): a glob character (`*?[]\`) would widen a pattern, a space or a quote would
//! break the line.

pub mod glob;
pub mod roles;

use sha2::{Digest, Sha256};

use crate::config::Topology;

pub use self::roles::WorkerRole;

/// The shortest password accepted (Redis answers thousands of guesses a second).
pub const MIN_PASSWORD_LEN: usize = 16;

/// Who the user is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// One worker (`pulseboard run`, the SDK): its beat, its commands, its queue.
    Worker,
    /// One host's agent: its request stream, started set and beat; results.
    Agent,
    /// `pulseboard serve`: reads the fleet, keeps its own keys, sends commands and requests.
    Server,
    /// `pulseboard serve --read-only`: reads only.
    Viewer,
}

impl Role {
    /// Its name, as `--role` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Worker => "worker",
            Self::Agent => "agent",
            Self::Server => "server",
            Self::Viewer => "viewer",
        }
    }
}

/// How the line is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `ACL SETUSER <user> ...`, for `redis-cli`.
    #[default]
    Cli,
    /// `user <user> ...`, a line of an ACL file (`aclfile`).
    File,
}

/// What a key rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write: `~pattern`.
    ReadWrite,
    /// Read only: `%R~pattern`.
    Read,
    /// Write only: `%W~pattern`.
    Write,
}

/// Keys matching `pattern`, with `access`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRule {
    /// A Redis glob.
    pub pattern: String,
    /// What the user may do with them.
    pub access: Access,
}

impl KeyRule {
    /// As an ACL rule.
    pub fn rule(&self) -> String {
        let prefix = match self.access {
            Access::ReadWrite => "~",
            Access::Read => "%R~",
            Access::Write => "%W~",
        };
        format!("{prefix}{}", self.pattern)
    }
}

/// The commands and keys of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Commands (lowercase; `container|sub` for one subcommand), each granted alone.
    pub commands: Vec<&'static str>,
    /// Key rules.
    pub keys: Vec<KeyRule>,
}

/// Why no line can be printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// A name that is not only letters, digits, `.`, `_` and `-` (`:` too for a queue).
    #[error("{what} {value:?}: use 1 to 100 letters, digits, '.', '_' or '-'{colon} (a glob character such as * ? [ ] \\ would widen the key patterns; a space or a quote would break the line)", colon = if *.colon { " or ':'" } else { "" })]
    BadName {
        /// Which flag or file key.
        what: String,
        /// What was given.
        value: String,
        /// Whether `:` is allowed there.
        colon: bool,
    },
    /// The role needs `--name`.
    #[error("--role {}: --name is required ({})", .0.as_str(), if *.0 == Role::Worker { "the worker's name" } else { "the host" })]
    NameRequired(Role),
    /// A flag the role does not take.
    #[error("--role {}: {flag} is only for --role worker", .role.as_str())]
    NotForRole {
        /// The flag.
        flag: &'static str,
        /// The role given.
        role: Role,
    },
    /// A password shorter than [`MIN_PASSWORD_LEN`].
    #[error(
        "the password must be at least {MIN_PASSWORD_LEN} characters (e.g. `openssl rand -hex 24`)"
    )]
    ShortPassword,
}

/// What to print a user for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--name`: the worker (worker), the host (agent), the user (server, viewer; optional).
    pub name: Option<String>,
    /// `--queue` (worker).
    pub queue: Option<String>,
    /// `--consumer` (worker).
    pub consumer: Option<String>,
    /// `--may-pause` (worker).
    pub may_pause: bool,
}

/// A Redis user: its name, its password's SHA-256 (hex) and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's name (`worker-<name>`, `agent-<host>`, `pulseboard`, `pulseboard-viewer`).
    pub name: String,
    /// What it is for.
    pub role: Role,
    /// SHA-256 of the password, lowercase hex, as Redis's `#<hash>` takes it.
    pub password_sha256: String,
    /// Its commands and keys.
    pub grant: Grant,
}

/// `value` if it is 1-100 letters, digits, `.`, `_`, `-` (and `:` when `colon`).
fn checked(what: &str, value: &str, colon: bool) -> Result<String, AclError> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c) || (colon && c == ':');
    if value.is_empty() || value.len() > 100 || !value.chars().all(ok) {
        return Err(AclError::BadName {
            what: what.to_owned(),
            value: value.to_owned(),
            colon,
        });
    }
    Ok(value.to_owned())
}

/// The SHA-256 of `password` as Redis's `#<hash>` rule takes it; refused when short.
pub fn password_sha256(password: &str) -> Result<String, AclError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AclError::ShortPassword);
    }
    let digest = Sha256::digest(password.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

impl User {
    /// The user of `role` for `request`, with `password`; `topology` is what `serve` reads (its
    /// configured queues), for the server and viewer roles.
    pub fn new(
        role: Role,
        request: &Request,
        password: &str,
        topology: &Topology,
    ) -> Result<Self, AclError> {
        if role != Role::Worker {
            for (flag, given) in [
                ("--queue", request.queue.is_some()),
                ("--consumer", request.consumer.is_some()),
                ("--may-pause", request.may_pause),
            ] {
                if given {
                    return Err(AclError::NotForRole { flag, role });
                }
            }
        }
        let name = request
            .name
            .as_deref()
            .map(|n| checked("--name", n, false))
            .transpose()?;
        let (user, grant) = match role {
            Role::Worker | Role::Agent => {
                let name = name.ok_or(AclError::NameRequired(role))?;
                if role == Role::Agent {
                    (format!("agent-{name}"), roles::agent(&name))
                } else {
                    let queue = match &request.queue {
                        Some(q) => checked("--queue", q, true)?,
                        None => pulseboard_worker::queue::queue_key(&name),
                    };
                    let consumer = request
                        .consumer
                        .as_deref()
                        .map(|c| checked("--consumer", c, false))
                        .transpose()?;
                    let grant = roles::worker(&WorkerRole {
                        name: name.clone(),
                        queue,
                        consumer,
                        may_pause: request.may_pause,
                    });
                    (format!("worker-{name}"), grant)
                }
            }
            Role::Server | Role::Viewer => {
                for (i, w) in topology.workers.iter().enumerate() {
                    if let Some(queue) = &w.queue {
                        checked(&format!("workers[{i}].queue"), queue, true)?;
                    }
                }
                if role == Role::Server {
                    let user = name.unwrap_or_else(|| "pulseboard".into());
                    (user, roles::server(topology))
                } else {
                    let user = name.unwrap_or_else(|| "pulseboard-viewer".into());
                    (user, roles::viewer(topology))
                }
            }
        };
        Ok(Self {
            name: user,
            role,
            password_sha256: password_sha256(password)?,
            grant,
        })
    }

    /// The line that creates (or replaces) the user.
    pub fn line(&self, format: Format) -> String {
        let head = match format {
            Format::Cli => "ACL SETUSER",
            Format::File => "user",
        };
        let mut words = vec![
            head.to_owned(),
            self.name.clone(),
            "reset".into(),
            "resetkeys".into(),
            "resetchannels".into(),
            "-@all".into(),
            "on".into(),
            format!("#{}", self.password_sha256),
        ];
        words.extend(self.grant.commands.iter().map(|c| format!("+{c}")));
        words.extend(self.grant.keys.iter().map(KeyRule::rule));
        words.join(" ")
    }

    /// What the user may do, in words (`#` comments), and how to connect as it.
    pub fn describe(&self) -> String {
        let keys = |access: Access| {
            let list: Vec<&str> = self
                .grant
                .keys
                .iter()
                .filter(|k| k.access == access)
                .map(|k| k.pattern.as_str())
                .collect();
            list.join(" ")
        };
        let mut text = format!(
            "# user {} (role {}), nothing but:\n",
            self.name,
            self.role.as_str()
        );
        for (what, access) in [
            ("reads and writes", Access::ReadWrite),
            ("reads only", Access::Read),
            ("writes only", Access::Write),
        ] {
            let list = keys(access);
            if !list.is_empty() {
                text.push_str(&format!("#   {what}: {list}\n"));
            }
        }
        text.push_str(&format!(
            "#   commands: {}\n# connect as redis://{}:PASSWORD@HOST:6379 (rediss:// with TLS)\n",
            self.grant.commands.join(" "),
            self.name
        ));
        text
    }
}

#[cfg(test)]
mod tests;
