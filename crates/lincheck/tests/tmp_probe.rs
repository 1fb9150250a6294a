use lincheck::*;
#[test]
fn probe() {
    for f in ["c50-ok.txt", "c50-bad.txt", "c10-bad.txt"] {
        let text = std::fs::read_to_string(format!("{}/tests/data/kv/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let h = parse::kv::parse(&text).unwrap();
        for p in KvModel.partition(&h) {
            let sub: Vec<_> = p.ops.iter().map(|&i| h[i].clone()).collect();
            let t = std::time::Instant::now();
            let o = check(&KvModel, &sub, 200_000_000);
            println!("{f} {} n={} {:?} {}", p.label, sub.len(), t.elapsed(), o.to_string().chars().take(100).collect::<String>());
        }
    }
}
