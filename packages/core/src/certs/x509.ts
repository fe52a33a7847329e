/**
 * @peculiar/x509, ready to use: its dependency injection needs the reflect-metadata polyfill
 * loaded first, and it signs through Node's WebCrypto. Import x509 from here, never directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export { x509 };
