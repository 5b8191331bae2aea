//! argon2id at the chosen parameters (m = 19 MiB, t = 2, p = 1): the cost of one sign-in.
//!
//! Run: `cargo bench -p app --features ssr --bench password`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn argon2(c: &mut Criterion) {
    let phc = backend::password::hash_blocking("correct horse battery staple").expect("hash");
    let mut g = c.benchmark_group("argon2id_m19456_t2_p1");
    g.sample_size(20);
    g.bench_function("hash", |b| {
        b.iter(|| backend::password::hash_blocking(black_box("correct horse battery staple")))
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            backend::password::verify_blocking(black_box("correct horse battery staple"), &phc)
        })
    });
    g.finish();
}

criterion_group!(benches, argon2);
criterion_main!(benches);
