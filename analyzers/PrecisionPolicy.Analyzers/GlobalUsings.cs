// The catalogue and its symbol table (TorchSymbols), shared with the generator, are used by nearly every rule.
global using PrecisionPolicy.Catalog;
