"""Charges each sample of a folded perf profile (inferno-collapse-perf) to the innermost frame
of this workspace's code, grouped by crate: the table in README "Sweeps at scale".

Usage: perf script -i perf.data | inferno-collapse-perf > run.folded; python3 docs/flame-owner.py run.folded
"""
import collections,re,sys
pat=re.compile(r'^<*(labrpc|raft|rsm|kvraft|tester|lincheck|harness|shardkv)::')
runner=re.compile(r'^labrpc::sim::(drive|run_with|watch)\b')
own=collections.Counter(); fn=collections.Counter(); tot=0
for line in open(sys.argv[1]):
    st,n=line.rsplit(' ',1); n=int(n); tot+=n
    o='tokio runtime itself (scheduler loop, timer wheel, parking)'; f=o
    for fr in reversed(st.split(';')):
        # The simulation's own loop runs the runtime: its samples are tokio's, not labrpc's.
        if runner.match(fr): break
        m=pat.match(fr)
        if m:
            o=m.group(1); f=re.sub(r'::\{\{closure\}\}','',fr)[:90]; break
    if o=='labrpc':
        if 'livelock' in f: o='labrpc: livelock and wall-limit monitor'
        elif 'digest' in f or 'Sim::record' in f: o='labrpc: event digest'
        elif 'sim::spawn' in f: o='labrpc: task spawns (sim::spawn)'
        elif 'wire' in f: o='labrpc: wire latency timers (Network::wire)'
        elif 'codec' in f: o='labrpc: encode/decode'
        else: o='labrpc: call path and bookkeeping'
    if o in('tester','lincheck'): o='testers and lincheck'
    own[o]+=n; fn[f]+=n
for k,n in own.most_common(): print(f"{100*n/tot:5.1f} % {k}")
