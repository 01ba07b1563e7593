// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using FlowEngine.Interop.Dpdk;

namespace FlowEngine.Interop.Tests.Native;

/// <summary>A missing shim and a missing DPDK are told apart, and each message says what to do.</summary>
[Trait("Category", "Native")]
public class FlowShimLibraryTests
{
    [Fact]
    public void LoadFrom_MissingFile_ThrowsShimMissingWithBuildHint()
    {
        DpdkException e = Assert.Throws<DpdkException>(() => FlowShimLibrary.LoadFrom(Path.Combine(Path.GetTempPath(), "no-such-dir", "libflowshim.so")));
        Assert.Equal(DpdkFailure.ShimMissing, e.Failure);
        Assert.Contains("make -C native", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFrom_ShimWithMissingDpdkLibrary_ThrowsDpdkLibrariesMissing()
    {
        // A library that needs a librte_ library absent at run time: linked against a stub that is then deleted.
        string dir = Infrastructure.TestPaths.NewTempPath(".d");
        Directory.CreateDirectory(dir);
        string stubSource = Path.Combine(dir, "stub.c");
        File.WriteAllText(stubSource, "int fe_stub_dep(void) { return 1; }\n");
        string stub = Path.Combine(dir, "librte_fe_missing.so");
        Infrastructure.ProcessRunner.Run("cc", ["-shared", "-fPIC", "-o", stub, "-Wl,-soname,librte_fe_missing.so.23", stubSource], TimeSpan.FromSeconds(60));
        string shimSource = Path.Combine(dir, "shim.c");
        File.WriteAllText(shimSource, "int fe_stub_dep(void); int fe_probe(void) { return fe_stub_dep(); }\n");
        string shim = Path.Combine(dir, "libflowshim.so");
        Infrastructure.ProcessRunner.Run("cc", ["-shared", "-fPIC", "-o", shim, shimSource, "-L" + dir, "-l:librte_fe_missing.so"], TimeSpan.FromSeconds(60));
        File.Delete(stub);

        DpdkException e = Assert.Throws<DpdkException>(() => FlowShimLibrary.LoadFrom(shim));
        Assert.Equal(DpdkFailure.DpdkLibrariesMissing, e.Failure);
        Assert.Contains("librte_fe_missing.so.23", e.Message, StringComparison.Ordinal);
        Assert.Contains("DPDK 22.11", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFrom_BuiltShim_Loads()
    {
        string shim = Path.Combine(AppContext.BaseDirectory, "libflowshim.so");
        Assert.True(File.Exists(shim), $"{shim} is missing: run 'make -C native', then rebuild");
        FlowShimLibrary.LoadFrom(shim);
    }
}
