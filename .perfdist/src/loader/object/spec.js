export {};
//# sourceMappingURL=spec.js.map