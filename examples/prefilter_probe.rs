//! Measures keyword-prefilter candidates on a file: Aho-Corasick overlapping
//! vs a dense DFA with leftmost-first restarts. `cargo run --release --example prefilter_probe FILE`
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::{
    dfa::{dense, Automaton},
    util::syntax,
    Input,
};

fn main() {
    let path = std::env::args().nth(1).expect("FILE");
    let hay = std::fs::read(path).expect("read");
    let set =
        leakhound::detector::DetectorSet::new(leakhound::detector::load_builtin().expect("load"))
            .expect("set");
    let mut kws: Vec<String> = set
        .as_slice()
        .iter()
        .flat_map(|d| d.keywords.clone())
        .collect();
    kws.sort();
    kws.dedup();
    let t = Instant::now();
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&kws)
        .expect("ac");
    println!("ac build {:?}, {} keywords", t.elapsed(), kws.len());
    let t = Instant::now();
    let n = ac.find_overlapping_iter(&hay).count();
    let el = t.elapsed();
    println!(
        "ac overlapping: {n} hits, {:.0} MB/s",
        hay.len() as f64 / el.as_secs_f64() / 1e6
    );

    let mut by_len: Vec<&String> = kws.iter().collect();
    by_len.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let pats: Vec<String> = by_len.iter().map(|k| regex_syntax::escape(k)).collect();
    let t = Instant::now();
    let dfa = dense::Builder::new()
        .syntax(
            syntax::Config::new()
                .unicode(false)
                .utf8(false)
                .case_insensitive(true),
        )
        .configure(dense::Config::new().minimize(false))
        .build_many(&pats)
        .expect("dfa");
    println!("dfa build {:?}, {} bytes", t.elapsed(), dfa.memory_usage());
    let t = Instant::now();
    let mut n = 0;
    let mut at = 0;
    while at < hay.len() {
        match dfa
            .try_search_fwd(&Input::new(&hay).range(at..))
            .expect("search")
        {
            Some(m) => {
                n += 1;
                let len = by_len[m.pattern().as_usize()].len();
                at = m.offset() - len + 1;
            }
            None => break,
        }
    }
    let el = t.elapsed();
    println!(
        "dfa leftmost+restart: {n} hits, {:.0} MB/s",
        hay.len() as f64 / el.as_secs_f64() / 1e6
    );
}
