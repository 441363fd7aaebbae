//! Org scans' front half: enumerate a forge's repositories (`repos list`,
//! `scan github`, `scan gitlab`), filter and shard them, and bring their
//! mirrors up to date in the clone cache.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;

use super::{GithubArgs, GitlabArgs, RemoteListing, RemoteOptions};
use crate::{
    scan::repos::RepoTarget,
    source::{
        remote::{
            github, gitlab,
            mirror::{self, GitAuth},
            parse_shard, Api, Filters, Listing,
        },
        Skipped,
    },
};

/// The repositories to cover, and how to reach them.
#[derive(Debug)]
pub struct Enumerated {
    /// After filters and shard.
    pub listing: Listing,
    /// Credentials for git, when a token was given.
    pub auth: Option<GitAuth>,
    /// The clone cache.
    pub clone_dir: PathBuf,
}

/// The token in environment variable `name`, if set and not empty. Read
/// here, never through clap, so `--help` cannot show it.
fn token(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|t| !t.trim().is_empty())
}

fn notifier(quiet: bool) -> Box<dyn Fn(&str) + Send + Sync> {
    Box::new(move |m: &str| {
        if !quiet {
            eprintln!("leakhound: {m}");
        }
    })
}

fn filters(o: &RemoteOptions) -> anyhow::Result<Filters> {
    let name_glob = match &o.name_glob {
        Some(g) => Some(
            globset::Glob::new(g)
                .with_context(|| format!("--match `{g}` is not a glob"))?
                .compile_matcher(),
        ),
        None => None,
    };
    Ok(Filters {
        include_forks: o.include_forks,
        include_archived: o.include_archived,
        name_glob,
        wikis: o.wikis,
    })
}

/// A forge and what to enumerate on it.
#[derive(Debug, Clone, Copy)]
pub enum Forge<'a> {
    /// GitHub.
    Github(&'a GithubArgs),
    /// GitLab.
    Gitlab(&'a GitlabArgs),
}

/// Enumerates what `forge` names, filtered and sharded.
///
/// # Errors
/// Bad arguments, or an API that lists nothing at all.
pub fn enumerate(forge: Forge<'_>, quiet: bool) -> anyhow::Result<Enumerated> {
    let (listing, auth, options) = match forge {
        Forge::Github(g) => github_listing(g, quiet)?,
        Forge::Gitlab(g) => gitlab_listing(g, quiet)?,
    };
    let mut listing = listing.finish(&filters(options)?);
    if let Some(shard) = &options.shard {
        let (k, n) = parse_shard(shard).map_err(anyhow::Error::msg)?;
        listing = listing.shard(k, n);
    }
    Ok(Enumerated {
        listing,
        auth,
        clone_dir: options
            .clone_dir
            .clone()
            .unwrap_or_else(mirror::default_dir),
    })
}

fn github_listing(
    g: &GithubArgs,
    quiet: bool,
) -> anyhow::Result<(Listing, Option<GitAuth>, &RemoteOptions)> {
    if g.org.is_empty() && g.user.is_empty() && g.repo.is_empty() {
        anyhow::bail!("name what to scan: --org, --user or --repo");
    }
    let token = token("GITHUB_TOKEN");
    let api = Api::new(
        &g.api_url,
        token.as_deref().map(github::auth_header),
        notifier(quiet),
    )?;
    let listing = github::list(
        &api,
        &github::Selection {
            orgs: g.org.clone(),
            users: g.user.clone(),
            repos: g.repo.clone(),
        },
    )?;
    let auth = token.map(|token| GitAuth {
        user: "x-access-token",
        token,
    });
    Ok((listing, auth, &g.remote))
}

fn gitlab_listing(
    g: &GitlabArgs,
    quiet: bool,
) -> anyhow::Result<(Listing, Option<GitAuth>, &RemoteOptions)> {
    if g.group.is_empty() && g.project.is_empty() {
        anyhow::bail!("name what to scan: --group or --project");
    }
    let token = token("GITLAB_TOKEN");
    let api = Api::new(
        &g.api_url,
        token.as_deref().map(gitlab::auth_header),
        notifier(quiet),
    )?;
    let listing = gitlab::list(
        &api,
        &gitlab::Selection {
            groups: g.group.clone(),
            include_subgroups: g.include_subgroups,
            projects: g.project.clone(),
        },
    )?;
    let auth = token.map(|token| GitAuth {
        user: "oauth2",
        token,
    });
    Ok((listing, auth, &g.remote))
}

/// `leakhound repos list`.
///
/// # Errors
/// As [`enumerate`].
pub fn list(which: &RemoteListing, quiet: bool) -> anyhow::Result<ExitCode> {
    let forge = match which {
        RemoteListing::Github(g) => Forge::Github(g),
        RemoteListing::Gitlab(g) => Forge::Gitlab(g),
    };
    let e = enumerate(forge, quiet)?;
    for r in &e.listing.repos {
        println!("{}\t{}", r.full_name, r.clone_url);
    }
    for s in &e.listing.skipped {
        eprintln!("leakhound: skipped {}: {}", s.path, s.reason);
    }
    Ok(ExitCode::SUCCESS)
}

/// Clones or fetches every enumerated repository; one that fails is
/// recorded and the others go on.
pub fn mirrors(e: &Enumerated, quiet: bool) -> (Vec<RepoTarget>, Vec<Skipped>) {
    let mut targets = Vec::new();
    let mut skipped = e.listing.skipped.clone();
    let total = e.listing.repos.len();
    for (i, repo) in e.listing.repos.iter().enumerate() {
        match mirror::update(&e.clone_dir, repo, e.auth.as_ref()) {
            Ok(m) => {
                tracing::info!(
                    "[{}/{total}] {} {}",
                    i + 1,
                    if m.cloned { "cloned" } else { "fetched" },
                    repo.full_name
                );
                targets.push(RepoTarget {
                    name: repo.full_name.clone(),
                    path: m.path,
                });
            }
            Err(reason) => {
                if !quiet {
                    eprintln!("leakhound: skipped {}: {reason}", repo.full_name);
                }
                skipped.push(Skipped {
                    path: repo.full_name.clone(),
                    reason,
                });
            }
        }
    }
    (targets, skipped)
}
