//! The command line: clap definitions that only parse (this file), and one
//! module per subcommand that turns parsed arguments into library builders,
//! runs them and renders the result.

pub mod config;
pub mod detectors;
pub mod findings;
pub mod merge;
pub mod progress;
pub mod remote;
pub mod scan;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

/// Exit code for "the scan could not run".
pub const EXIT_ERROR: u8 = 2;
/// Exit code for "a secret verified live was found" (`--verify`).
pub const EXIT_LIVE: u8 = 3;

/// leakhound finds leaked credentials (API keys, tokens, private keys,
/// passwords) and reports each secret once, with every place it appears.
#[derive(Debug, Parser)]
#[command(name = "leakhound", version, about, long_about = None, after_help = EXIT_HELP)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). Logs never contain secrets.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no summary line.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_HELP: &str =
    "Exit codes: 0 no unsuppressed findings, 1 unsuppressed findings (see --exit-code), 2 the scan could not run, 3 a secret verified live (--verify).";

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan for secrets. `leakhound scan PATH...` picks the source from what
    /// PATH is: the root of a git repository gets its full history plus the
    /// working-tree files history does not hold; anything else is walked as
    /// files. `scan dir` and `scan git` force a source.
    Scan(Box<ScanArgs>),
    /// List or check detectors.
    #[command(subcommand)]
    Detectors(DetectorsCommand),
    /// Record what a scan finds now, so later scans (`--baseline FILE`) fail
    /// only on new leaks.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List the repositories an org scan would cover (`repos list github
    /// --org acme`), without cloning or scanning.
    #[command(subcommand)]
    Repos(ReposCommand),
    /// Read and triage the findings kept in a state store (`--state`).
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// Merge JSON reports (e.g. of the shards of one org scan) into one: a
    /// secret found by several is one finding with every location.
    Merge(MergeArgs),
}

/// `leakhound repos`.
#[derive(Debug, Subcommand)]
pub enum ReposCommand {
    /// Print `full_name<TAB>clone_url` for each repository that would be
    /// scanned (after filters and --shard).
    #[command(subcommand)]
    List(RemoteListing),
}

/// A forge to enumerate.
#[derive(Debug, Subcommand)]
pub enum RemoteListing {
    /// GitHub or GitHub Enterprise.
    Github(GithubArgs),
    /// GitLab (gitlab.com or self-managed).
    Gitlab(GitlabArgs),
}

/// `leakhound findings`.
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List stored findings: status (new, open, resolved), first and last
    /// seen, repositories, verification, triage. Secrets are shown redacted.
    List {
        /// The state store.
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// Only findings in this state (`open` includes `new`).
        #[arg(long, value_enum)]
        status: Option<FindingStatus>,
        /// `human` (a table) or `json` / `jsonl`.
        #[arg(long, short = 'f', value_enum, default_value = "human")]
        format: Format,
    },
    /// Record a decision on a finding; later runs report it suppressed and
    /// it no longer alerts (or fails the build).
    Triage {
        /// The finding's fingerprint (from a report or `findings list`).
        fingerprint: String,
        /// The decision.
        #[arg(long = "as", value_enum)]
        decision: crate::store::Triage,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
        /// The state store.
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
    },
}

/// A finding's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingStatus {
    /// First seen in the latest run.
    New,
    /// Not resolved (new included).
    Open,
    /// No longer present anywhere scanned.
    Resolved,
}

/// `leakhound merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`--format json`) to merge.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Write the merged report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What to enumerate on GitHub.
#[derive(Debug, Args)]
pub struct GithubArgs {
    /// Every repository of organisation NAME (repeatable).
    #[arg(long, value_name = "NAME")]
    pub org: Vec<String>,
    /// Every repository user NAME owns (repeatable).
    #[arg(long, value_name = "NAME")]
    pub user: Vec<String>,
    /// Repository OWNER/NAME (repeatable).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Vec<String>,
    /// API base URL (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = crate::source::remote::github::DEFAULT_API_URL)]
    pub api_url: String,
    /// Filters, clone cache, shard.
    #[command(flatten)]
    pub remote: RemoteOptions,
}

/// What to enumerate on GitLab.
#[derive(Debug, Args)]
pub struct GitlabArgs {
    /// Every project of group PATH (repeatable).
    #[arg(long, value_name = "PATH")]
    pub group: Vec<String>,
    /// With --group: projects of subgroups too.
    #[arg(long)]
    pub include_subgroups: bool,
    /// Project PATH (repeatable).
    #[arg(long, value_name = "PATH")]
    pub project: Vec<String>,
    /// API base URL (self-managed: https://HOST/api/v4).
    #[arg(long, value_name = "URL", default_value = crate::source::remote::gitlab::DEFAULT_API_URL)]
    pub api_url: String,
    /// Filters, clone cache, shard.
    #[command(flatten)]
    pub remote: RemoteOptions,
}

/// Options of every forge enumeration.
#[derive(Debug, Clone, Args)]
pub struct RemoteOptions {
    /// Include forks (skipped by default).
    #[arg(long)]
    pub include_forks: bool,
    /// Include archived repositories (skipped by default).
    #[arg(long)]
    pub include_archived: bool,
    /// Only repositories whose full name matches GLOB (e.g. 'acme/api-*').
    #[arg(long = "match", value_name = "GLOB")]
    pub name_glob: Option<String>,
    /// Also scan each repository's wiki (`.wiki.git`) when it has one.
    #[arg(long)]
    pub wikis: bool,
    /// Clone cache: bare mirrors, cloned once and fetched on later runs
    /// (default: ~/.cache/leakhound/repos).
    #[arg(long, value_name = "DIR")]
    pub clone_dir: Option<PathBuf>,
    /// Only shard K of N (1-based): repositories are split by a stable hash
    /// of their full name, so N workers given 1/N..N/N cover the list once.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

/// `leakhound scan github`.
#[derive(Debug, Args)]
#[command(after_help = REMOTE_HELP)]
pub struct ScanGithubArgs {
    /// What to scan.
    #[command(flatten)]
    pub github: GithubArgs,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

/// `leakhound scan gitlab`.
#[derive(Debug, Args)]
#[command(after_help = REMOTE_HELP)]
pub struct ScanGitlabArgs {
    /// What to scan.
    #[command(flatten)]
    pub gitlab: GitlabArgs,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

const REMOTE_HELP: &str = "The token is read from GITHUB_TOKEN / GITLAB_TOKEN and is never printed: it goes to the API in a header and to git in a header set through git's environment, never in a URL or an argument. Rate limits are waited out. With --state FILE, reruns scan only blobs not scanned before under the same detectors, and --new-only reports only findings first seen in this run.\n\nExit codes: 0 no unsuppressed findings, 1 unsuppressed findings (see --exit-code), 2 the scan could not run, 3 a secret verified live (--verify).";

/// `leakhound baseline`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan PATH as `scan` would and write the fingerprints of every finding
    /// (no secrets) to --output (default .leakhound-baseline.json). Commit it;
    /// then `leakhound scan PATH --baseline .leakhound-baseline.json` reports
    /// the old findings as suppressed and exits 1 only on new ones.
    Create(Box<ScanArgs>),
}

/// `leakhound scan`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true, after_help = EXIT_HELP)]
pub struct ScanArgs {
    /// Force a source (otherwise chosen from each PATH).
    #[command(subcommand)]
    pub source: Option<ScanSource>,
    /// Files or directories to scan. A directory is walked recursively,
    /// hidden and gitignored files included (see --respect-gitignore).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Which history to scan when PATH is a git repository.
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

/// Sources that can be forced with `scan <source>`.
#[derive(Debug, Subcommand)]
pub enum ScanSource {
    /// Walk files and directories (working trees, unpacked archives, config dirs).
    Dir(DirArgs),
    /// Scan the history of a git repository (a working copy or a bare
    /// repository): by default every blob of every commit reachable from any
    /// ref — branches, tags, remote-tracking refs, stash, notes — each unique
    /// blob read once. Working-tree files are not scanned (`scan PATH` does that).
    Git(GitArgs),
    /// Audit Postman exports field by field: collections (v1, v2.0, v2.1),
    /// environments, globals, data dumps (the file, folder or zip form) and
    /// newman reports, or exports fetched from the Postman API (--api). Every
    /// credential-bearing field is checked — auth blocks, headers, URLs,
    /// bodies, variables, scripts, saved responses — and a value whose field
    /// means "credential" (a basic-auth password, a bearer token, an
    /// X-API-Key header) is reported even when it has no known format, as
    /// `postman-credential`. `{{variables}}` are resolved across all the
    /// exports given, so a secret defined in an environment is reported once,
    /// where it is defined and at every request that uses it.
    Postman(PostmanArgs),
    /// Scan every repository of GitHub organisations or users (or named
    /// ones): enumerated with the REST API, mirrored into the clone cache,
    /// each history scanned. Pair with --state for incremental nightly runs.
    Github(ScanGithubArgs),
    /// Scan every project of GitLab groups (or named ones), as `scan github`.
    Gitlab(ScanGitlabArgs),
}

/// `leakhound scan postman`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_HELP)]
pub struct PostmanArgs {
    /// Export files, directories of them, or zip archives of "Export data".
    #[arg(value_name = "FILE_OR_DIR", required_unless_present = "api")]
    pub paths: Vec<PathBuf>,
    /// Also fetch exports from the Postman API (key from POSTMAN_API_KEY);
    /// name what with --workspace, --collection, --environment or --all.
    #[arg(long)]
    pub api: bool,
    /// With --api: every collection and environment of workspace ID (repeatable).
    #[arg(long, value_name = "ID", requires = "api")]
    pub workspace: Vec<String>,
    /// With --api: collection UID (repeatable).
    #[arg(long, value_name = "UID", requires = "api")]
    pub collection: Vec<String>,
    /// With --api: environment UID (repeatable).
    #[arg(long, value_name = "UID", requires = "api")]
    pub environment: Vec<String>,
    /// With --api: every collection and environment the key can see.
    #[arg(long, requires = "api")]
    pub all: bool,
    /// Base URL of the Postman API.
    #[arg(long, value_name = "URL", default_value = "https://api.getpostman.com")]
    pub postman_api_url: String,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

/// `leakhound scan git`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_HELP)]
pub struct GitArgs {
    /// The repository.
    #[arg(value_name = "REPO")]
    pub path: PathBuf,
    /// Which history to scan.
    #[command(flatten)]
    pub history: HistoryArgs,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

/// Which part of a repository's history to scan.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryArgs {
    /// Only commits reachable from this ref or revision.
    #[arg(long, value_name = "REF", conflicts_with_all = ["since_commit", "commits", "staged"])]
    pub branch: Option<String>,
    /// Only commits not reachable from REV (e.g. the base of a pull request).
    #[arg(long, value_name = "REV", conflicts_with_all = ["commits", "staged"])]
    pub since_commit: Option<String>,
    /// Only commits in the range A..B (reachable from B, not from A).
    #[arg(long, value_name = "A..B", conflicts_with = "staged")]
    pub commits: Option<String>,
    /// Only what is staged: index entries that differ from HEAD (for pre-commit hooks).
    #[arg(long)]
    pub staged: bool,
    /// Also scan blobs that no ref reaches (amended-away commits, deleted
    /// branches, dropped stashes); their findings say `reachable: false`.
    #[arg(long)]
    pub all_objects: bool,
}

/// `leakhound scan dir`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_HELP)]
pub struct DirArgs {
    /// Files or directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan options.
    #[command(flatten)]
    pub options: ScanOptions,
}

impl ScanOptions {
    /// The report format in force.
    pub fn format(&self) -> Format {
        self.format.unwrap_or(Format::Human)
    }

    /// The exit code for unsuppressed findings.
    pub fn exit_code(&self) -> u8 {
        self.exit_code.unwrap_or(1)
    }

    /// The size above which files and blobs are skipped.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size.unwrap_or(25 << 20)
    }
}

/// Options shared by every scan.
#[derive(Debug, Clone, Args)]
pub struct ScanOptions {
    /// Detectors.
    #[command(flatten)]
    pub detectors: DetectorArgs,
    /// Report format (default: human).
    #[arg(long, short = 'f', value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show only a short prefix of each secret (in the secret field, parts and snippets).
    #[arg(long)]
    pub redact: bool,
    /// Report findings whose fingerprint is in FILE (written by `leakhound
    /// baseline create`) as suppressed; they do not affect the exit code.
    /// Baseline entries no longer found are listed as stale.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ignore file: one fingerprint per line, `# comments` allowed (default:
    /// `.leakhoundignore` in the scan root, when present). Precedence:
    /// inline `leakhound:allow` on the secret's line, then this file, then
    /// the baseline.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Check each unique secret with its provider (off by default), once per
    /// run, with a read-only request. Safety policy: a secret is sent only to
    /// its verifier's fixed host; a host taken from scanned data (webhooks,
    /// tenant subdomains, database URIs) is refused when it resolves to a
    /// private, loopback, link-local or metadata address; redirects are not
    /// followed; TLS is verified; answers are read up to 1 MiB; at most
    /// --verify-per-host requests in flight per host and --verify-rate
    /// starts per second; 429/5xx retried honouring Retry-After. See README
    /// "Verification".
    #[arg(long)]
    pub verify: bool,
    /// With --verify: let hosts taken from scanned data reach private,
    /// loopback, link-local and metadata addresses (off: refused).
    #[arg(long)]
    pub verify_allow_internal: bool,
    /// With --verify: try database URIs (PostgreSQL, Redis) with a real
    /// connection that stops after authentication (off: not checked).
    #[arg(long)]
    pub verify_db: bool,
    /// With --verify: most request starts per second, all hosts together
    /// (default 20; 0 for no limit).
    #[arg(long, value_name = "N")]
    pub verify_rate: Option<f64>,
    /// With --verify: most requests in flight to one host (default 4).
    #[arg(long, value_name = "N")]
    pub verify_per_host: Option<usize>,
    /// With --verify or --verify-dry-run: send detector ID's checks to URL
    /// (scheme, host and port replaced; path kept) instead of the provider;
    /// for tests and proxies. Repeatable.
    #[arg(long, value_name = "ID=URL")]
    pub verify_endpoint: Vec<String>,
    /// List what --verify would contact (detector, host, number of secrets)
    /// and send nothing.
    #[arg(long)]
    pub verify_dry_run: bool,
    /// State store (SQLite; created on first use): with `scan git`, `scan
    /// github` and `scan gitlab`, blobs scanned in an earlier run under the
    /// same detectors are skipped, findings keep their first/last seen run,
    /// findings gone from every scanned repository become resolved, and
    /// recent verification results are reused.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// With --state: report only findings first seen in this run (what a
    /// nightly job alerts on).
    #[arg(long, requires = "state")]
    pub new_only: bool,
    /// With --state and --verify: reuse verification results younger than
    /// this (e.g. 24h, 90m, 7d; 0 re-verifies everything).
    #[arg(long, value_name = "AGE", default_value = "24h")]
    pub reverify_after: String,
    /// With --verify: report only findings verified valid.
    #[arg(long, requires = "verify")]
    pub only_verified: bool,
    /// No progress line on stderr (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Exit code when unsuppressed findings remain (default 1).
    #[arg(long, value_name = "N")]
    pub exit_code: Option<u8>,
    /// Settings file (default: `.leakhound.toml` in the scan root, when
    /// present): extra and disabled detectors, allowlisted secrets, regexes
    /// and stopwords, excludes and option defaults. Flags win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Colour in human output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Skip (and record) files and blobs larger than this (default 25M); accepts K, M, G suffixes.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Do not scan paths matching GLOB (gitignore syntax; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Honour .gitignore/.ignore files. Off by default: a gitignored .env on disk is still a leak.
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Follow symbolic links (loops are detected and recorded as skipped).
    #[arg(long)]
    pub follow_symlinks: bool,
}

/// Which detectors to load.
#[derive(Debug, Clone, Args)]
pub struct DetectorArgs {
    /// Add detectors from a TOML file or a directory of them (repeatable).
    #[arg(long = "detectors", id = "detector_paths", value_name = "PATH")]
    pub detector_paths: Vec<PathBuf>,
    /// Do not load the built-in detectors.
    #[arg(long)]
    pub no_builtin: bool,
    /// Detector ids to leave out (from the config file).
    #[arg(skip)]
    pub disabled: Vec<String>,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `leakhound detectors ...`.
#[derive(Debug, Subcommand)]
pub enum DetectorsCommand {
    /// List loaded detectors: id, name, keywords, whether they can verify.
    List {
        /// Detectors.
        #[command(flatten)]
        detectors: DetectorArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate detector files and run every example and non-example
    /// through the real engine. Without PATH, checks the built-in detectors.
    Check {
        /// Detector files or directories to check.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

/// Parses `123`, `64K`, `25M`, `1G` (binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size suffix `{c}` (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 25M"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("5Q").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
