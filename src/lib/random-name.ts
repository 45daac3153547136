import {APP_NAME_MAX} from './naming.js'

/** Heroku-style app names: adjective-noun-1234. Short words keep every name within APP_NAME_MAX. */
const ADJECTIVES = [
  'afternoon', 'ancient', 'autumn', 'blooming', 'bold', 'brave', 'calm', 'cold', 'crimson', 'curious', 'damp', 'dawn',
  'desert', 'divine', 'dry', 'eager', 'evening', 'fierce', 'floral', 'fresh', 'gentle', 'glacial', 'golden', 'green',
  'hidden', 'icy', 'lively', 'lucky', 'misty', 'morning', 'nameless', 'noble', 'obscure', 'polar', 'proud', 'quiet',
  'rapid', 'rocky', 'secret', 'shy', 'silent', 'sleepy', 'solar', 'sparkling', 'still', 'stormy', 'sunny', 'tranquil',
  'twilight', 'vast', 'warm', 'wild', 'winter', 'young',
]
const NOUNS = [
  'badlands', 'bastion', 'beach', 'bayou', 'brook', 'canyon', 'cliffs', 'cloud', 'coast', 'cove', 'crag', 'dawn',
  'depths', 'dew', 'dune', 'falls', 'fjord', 'forest', 'garden', 'glade', 'grove', 'harbor', 'headland', 'hollows',
  'island', 'lake', 'lowlands', 'meadow', 'mesa', 'mountain', 'ocean', 'peak', 'plains', 'pond', 'prairie', 'reef',
  'ridge', 'river', 'savannah', 'sea', 'shore', 'sky', 'springs', 'stream', 'summit', 'taiga', 'thicket', 'tundra',
  'valley', 'waters', 'wave', 'woods',
]

export function randomAppName(random: () => number = Math.random): string {
  const pick = (words: string[]) => words[Math.floor(random() * words.length)]
  const number = String(1000 + Math.floor(random() * 9000))
  const name = `${pick(ADJECTIVES)}-${pick(NOUNS)}-${number}`
  return name.length <= APP_NAME_MAX ? name : `${name.slice(0, APP_NAME_MAX - 5).replace(/-+$/, '')}-${number}`
}

/** Word lists, for tests that check every combination fits. */
export const RANDOM_NAME_WORDS = {adjectives: ADJECTIVES, nouns: NOUNS}
