# The median over rounds of wire's per-CPU-second figure divided by a
# peer's from the same round: rounds are interleaved, so a disturbance that
# hits one round (the host taking the vCPU away, another job) hits both
# servers of that round and drops out of the ratio, while a median of each
# column on its own can pair a good round with a bad one.
#
# awk -v p=PEER -v s=SCENARIO [-v k=KEY] -v fr=F -v fs=F -v fn=F -v fc=F \
#     -v fk=F -v label=L -f bench/paired.awk RAW
# fr, fs, fn, fc, fk: the fields of round, scenario, server name and count
# (the server CPU seconds follow the count), and of the key if k is set.
# With -v fst=F -v max_steal=X (percent), a round in which either run's
# host steal (field F) was above X is left out, and counted.
{
  if ($fs != s || (k != "" && $fk != k))
    next
  per = $(fc + 1) > 0 ? $fc / $(fc + 1) : 0
  if ($fn == "wire")
    w[$fr] = per
  else if ($fn == p)
    o[$fr] = per
  else
    next
  if (fst != "" && max_steal != "" && $fst + 0 > max_steal + 0)
    stolen[$fr] = 1
}
END {
  n = 0
  dropped = 0
  list = ""
  for (r in w) {
    if (!(r in o) || o[r] == 0)
      continue
    if (r in stolen) {
      dropped++
      continue
    }
    v[++n] = w[r] / o[r]
  }
  if (dropped > 0)
    label = label sprintf(" (%d rounds with steal above %s%% left out)",
                          dropped, max_steal)
  if (n == 0) {
    if (dropped > 0)
      printf "wire/%-7s %s per round: none left\n", p, label
    exit
  }
  # insertion sort: a handful of rounds
  for (i = 2; i <= n; i++) {
    x = v[i]
    for (j = i - 1; j >= 1 && v[j] > x; j--)
      v[j + 1] = v[j]
    v[j + 1] = x
  }
  for (i = 1; i <= n; i++)
    list = list sprintf(" %.2f", v[i])
  med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  printf "wire/%-7s %s per round: median %.2fx (sorted:%s)\n", p, label, med,
         list
}
