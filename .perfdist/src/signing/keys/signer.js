export {};
//# sourceMappingURL=signer.js.map