/**
 * `npm start`. Until the sync server lands, the product's runnable part is the pair of sandboxes,
 * so start runs them with the same flags as `npm run sandbox`.
 */
import '../sandbox/cli.ts';
