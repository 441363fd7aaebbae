//! Engine throughput on a deterministic, source-like corpus with a few
//! planted secrets. `cargo bench --bench engine` prints MB/s.
//!
//! The corpus mimics code and config: identifiers, assignments, URLs,
//! comments and the words that keywords are made of (`token`, `key`,
//! `password`, `http`), so the prefilter sees realistic hit rates.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound::{
    detector::{load_builtin, DetectorSet},
    engine::{Engine, EngineBuilder},
};

/// A small xorshift generator: the same corpus on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn token(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| A[(self.next() % A.len() as u64) as usize] as char)
            .collect()
    }
}

/// About `size` bytes of source-like text with one planted secret per ~1 MiB.
fn corpus(size: usize) -> Vec<u8> {
    let mut r = Rng(0x5eed_1eaf_cafe_f00d);
    let words = [
        "let", "const", "return", "if", "else", "for", "while", "match", "self", "config",
        "buffer", "len", "data", "request", "response", "http", "client", "server", "token", "key",
        "value", "path", "user", "password", "session", "auth", "handler", "error", "result",
        "options", "git", "curl", "commit", "parse", "format",
    ];
    let mut out = String::with_capacity(size + 256);
    let mut next_secret = 1 << 20;
    while out.len() < size {
        match r.next() % 10 {
            0 => out.push_str(&format!(
                "    // {} {} {} {}\n",
                r.pick(&words),
                r.pick(&words),
                r.pick(&words),
                r.pick(&words)
            )),
            1 => out.push_str(&format!(
                "    let {}_{} = \"{}\";\n",
                r.pick(&words),
                r.pick(&words),
                r.pick(&words)
            )),
            2 => out.push_str(&format!(
                "    url = \"https://{}.example.org/{}/{}\";\n",
                r.pick(&words),
                r.pick(&words),
                r.next() % 1000
            )),
            3 => out.push_str(&format!(
                "    {}.{}({}, {});\n",
                r.pick(&words),
                r.pick(&words),
                r.pick(&words),
                r.next() % 4096
            )),
            _ => out.push_str(&format!(
                "    if {} > {} {{ {}({}); }}\n",
                r.pick(&words),
                r.next() % 100,
                r.pick(&words),
                r.pick(&words)
            )),
        }
        if out.len() > next_secret {
            out.push_str(&format!("GITHUB_TOKEN=ghp_{}\n", r.token(36)));
            next_secret += 1 << 20;
        }
    }
    out.into_bytes()
}

fn engine_throughput(c: &mut Criterion) {
    let set =
        DetectorSet::new(load_builtin().expect("built-in detectors load")).expect("unique ids");
    let blob = corpus(16 << 20);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(blob.len() as u64));
    group.sample_size(10);
    let engine: Engine = EngineBuilder::new().build(set);
    let mut scratch = engine.scratch();
    let mut out = Vec::new();
    engine.scan(&blob, &mut scratch, &mut out);
    assert!(
        out.len() >= 15,
        "the planted secrets are found ({} matches)",
        out.len()
    );
    group.bench_function("scan", |b| {
        b.iter(|| engine.scan(&blob, &mut scratch, &mut out))
    });
    group.finish();
}

criterion_group!(benches, engine_throughput);
criterion_main!(benches);
