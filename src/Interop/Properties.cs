// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Runtime.CompilerServices;

// Every native signature is blittable; the source-generated LibraryImport stubs do the little marshalling left.
[assembly: DisableRuntimeMarshalling]
