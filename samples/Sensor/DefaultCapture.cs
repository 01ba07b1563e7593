// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

namespace FlowEngine.Sensor;

/// <summary>The capture bundled with the sensor, used when no capture is named.</summary>
internal static class DefaultCapture
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "lab-small.pcapng");

    /// <summary>The bundled capture's inventory (the lab's VMs).</summary>
    public static string InventoryPath => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "lab-small.inventory.csv");
}
