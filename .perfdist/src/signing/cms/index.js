export { signDetached } from './sign.js';
export { verifyDetached } from './verify.js';
export { decodeSignedData, MAX_CMS_SIZE } from './decode.js';
//# sourceMappingURL=index.js.map