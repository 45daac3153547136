/** Edit distance (insertions, deletions, substitutions; a swap of two neighbours counts as one). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({length: a.length + 1}, (_, i) => [i, ...Array.from({length: b.length}, () => 0)])
  for (let j = 1; j <= b.length; j++) rows[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1)
    }
  }

  return rows[a.length][b.length]
}

/**
 * The candidates a mistyped `name` most likely meant, best first: those within a few edits
 * (a third of the name's length, at least one), and those that contain it or that it contains.
 */
export function closestNames(name: string, candidates: string[], max = 3): string[] {
  const limit = Math.max(1, Math.floor(name.length / 3))
  return candidates
    .map((candidate) => ({candidate, distance: editDistance(name, candidate)}))
    .filter(({candidate, distance}) => candidate !== name && (distance <= limit || (name.length >= 3 && (candidate.includes(name) || name.includes(candidate)))))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, max)
    .map(({candidate}) => candidate)
}
