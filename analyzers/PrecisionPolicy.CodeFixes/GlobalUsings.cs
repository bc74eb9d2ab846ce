// The Roslyn namespaces every fix uses, and the rule ids (DiagnosticIds) each fix names.
global using System;
global using System.Composition;
global using System.Threading;
global using System.Threading.Tasks;
global using Microsoft.CodeAnalysis;
global using Microsoft.CodeAnalysis.CodeFixes;
global using Microsoft.CodeAnalysis.CSharp;
global using Microsoft.CodeAnalysis.CSharp.Syntax;
global using PrecisionPolicy.Analyzers;
