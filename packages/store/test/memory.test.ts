import { createMemoryStore } from '../src/memory/index.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('memory', async () => ({ store: createMemoryStore(), cleanup: async () => {} }));
