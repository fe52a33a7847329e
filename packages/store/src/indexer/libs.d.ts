// libmime ships no type declarations; these cover the calls the indexer makes.
declare module 'libmime' {
  const libmime: {
    parseHeaderValue(value: string): { value: string; params: Record<string, string> };
    decodeWords(value: string): string;
  };
  export default libmime;
}
