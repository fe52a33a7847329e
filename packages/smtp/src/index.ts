export {};
export * from './relay/index.js';
