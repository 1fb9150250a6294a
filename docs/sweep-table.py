"""The README's sweep table ("Sweeps at scale") from the grader's --json files of a sweep's
slices: per test, passed/total, the longest simulated run and the runs' own wall time added up.
Prints the seeds of any failure first.

Usage: python3 docs/sweep-table.py chunk*.json
"""
import json, collections, sys
lab = {'raft': 'Lab 2', 'kvraft': 'Lab 3', 'shardkv': 'Lab 4'}
rows = collections.OrderedDict()
files = sys.argv[1:]
for f in files:
    for r in json.load(open(f)):
        k = (r['package'], r['test'])
        e = rows.setdefault(k, {'part': r['part'], 'passed': 0, 'total': 0, 'sim': None, 'wall': 0.0, 'failed': []})
        e['total'] += 1
        e['passed'] += bool(r['passed'])
        if not r['passed']:
            e['failed'].append(r['seed'])
        if r['sim_secs'] is not None:
            e['sim'] = max(e['sim'] or 0, r['sim_secs'])
        e['wall'] += r['wall_secs']
print(len(files), 'files')
out = ['| lab | part | test | passed/total | max sim s | wall s, all runs |', '|---|---|---|---:|---:|---:|']
key = lambda kv: (lab[kv[0][0]], kv[1]['part'].endswith('X'), kv[0][1])
tp = tt = 0; tw = 0.0
for (pkg, test), e in sorted(rows.items(), key=key):
    tp += e['passed']; tt += e['total']; tw += e['wall']
    sim = '-' if e['sim'] is None else '%.1f' % e['sim']
    out.append('| %s | %s | `%s` | %s/%s | %s | %.1f |' % (lab[pkg], e['part'], test, f"{e['passed']:,}", f"{e['total']:,}", sim, e['wall']))
    if e['failed']:
        print('FAILED', pkg, test, e['failed'])
print('\n'.join(out))
print('total', tp, tt, 'run walls %.1f s' % tw)
