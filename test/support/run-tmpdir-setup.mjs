export { setup as default } from './run-tmpdir.mjs';
