import sys,re,statistics
rows={}
for v in ('base','new'):
  for r in range(1,7):
    t=open(f'ab-{v}-{r}.txt').read()
    step=float(re.search(r'([\d.]+) ms per step',t).group(1))
    cats={'conv':0,'bn+relu+pool':0,'other':0,'outside':0}
    for line in t.splitlines():
      if line.startswith('(outside kernels)'): cats['outside']=float(line.split()[-1]); continue
      if line.startswith('(') and 'other kernels' in line: cats['other']+=float(line.split()[-1]); continue
      m=re.match(r'^(\S+)( .*?)?\s+([\d.]+)\s+\d+%\s+\d+$',line)
      if not m: continue
      name=m.group(1); ms=float(m.group(3))
      if 'Conv' in name: cats['conv']+=ms
      elif 'BatchNorm' in name or name in ('Relu','_DistilljsReluGrad') or 'MaxPool' in name: cats['bn+relu+pool']+=ms
      else: cats['other']+=ms
    rows.setdefault(v,[]).append((step,cats))
    print(v,r,step,{k:round(x,1) for k,x in cats.items()})
for v in rows:
  print(v,'median step',statistics.median(s for s,_ in rows[v]), {k:round(statistics.median(c[k] for _,c in rows[v]),1) for k in rows[v][0][1]})
