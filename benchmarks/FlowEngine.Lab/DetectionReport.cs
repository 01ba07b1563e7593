// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using System.Text.Json;
using FlowEngine.Detection;

namespace FlowEngine.Lab;

/// <summary>How well a detector found the labelled attacks of one capture.</summary>
public sealed class DetectionReport
{
    private readonly long[,] _confusion;

    internal DetectionReport(IReadOnlyList<ClassResult> classes, long[,] confusion, long falseAlerts, double normalVmHours)
    {
        Classes = classes;
        _confusion = confusion;
        FalseAlerts = falseAlerts;
        NormalVmHours = normalVmHours;
    }

    /// <summary>Per attack class present in the labels.</summary>
    public IReadOnlyList<ClassResult> Classes { get; }

    /// <summary>Alerts on flows outside every attack.</summary>
    public long FalseAlerts { get; }

    /// <summary>VM-hours of the capture outside every attack window.</summary>
    public double NormalVmHours { get; }

    /// <summary>False alerts per VM-hour of normal traffic (0 when there is no normal time).</summary>
    public double FalseAlertsPerVmHour => NormalVmHours > 0 ? FalseAlerts / NormalVmHours : 0;

    /// <summary>Flows whose true class is <paramref name="truth"/> and whose strongest alert says <paramref name="predicted"/> (None: no alert).</summary>
    /// <param name="truth">True class.</param>
    /// <param name="predicted">Predicted class.</param>
    /// <returns>The count.</returns>
    public long Confusion(AttackClass truth, AttackClass predicted) => _confusion[(int)truth, (int)predicted];

    /// <summary>The report as JSON, for tracking over time.</summary>
    /// <returns>JSON text.</returns>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("classes");
            foreach (ClassResult c in Classes)
            {
                json.WriteStartObject();
                json.WriteString("class", LabAttackNames.ToLabel(c.Class));
                json.WriteNumber("attacks", c.Attacks);
                json.WriteBoolean("detected", c.Detected);
                WriteNullable(json, "time_to_detect_s", c.TimeToDetect?.TotalSeconds);
                json.WriteNumber("attack_flows", c.AttackFlows);
                json.WriteNumber("detected_flows", c.DetectedFlows);
                WriteNullable(json, "recall", c.Recall);
                json.WriteNumber("alerts", c.Alerts);
                WriteNullable(json, "precision", c.Precision);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartObject("confusion");
            foreach (AttackClass truth in Enum.GetValues<AttackClass>())
            {
                json.WriteStartObject(LabAttackNames.ToLabel(truth));
                foreach (AttackClass predicted in Enum.GetValues<AttackClass>())
                {
                    json.WriteNumber(LabAttackNames.ToLabel(predicted), Confusion(truth, predicted));
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteNumber("false_alerts", FalseAlerts);
            json.WriteNumber("normal_vm_hours", NormalVmHours);
            json.WriteNumber("false_alerts_per_vm_hour", FalseAlertsPerVmHour);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());

        static void WriteNullable(Utf8JsonWriter json, string name, double? value)
        {
            if (value is double v)
            {
                json.WriteNumber(name, v);
            }
            else
            {
                json.WriteNull(name);
            }
        }
    }

    /// <summary>The report as a text table.</summary>
    /// <returns>Table text.</returns>
    public string ToTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"class",-10} {"attacks",7} {"detected",8} {"ttd s",8} {"recall",7} {"precision",9} {"flows",6} {"alerts",6}");
        foreach (ClassResult c in Classes)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{LabAttackNames.ToLabel(c.Class),-10} {c.Attacks,7} {(c.Detected ? "yes" : "no"),8} {Format(c.TimeToDetect?.TotalSeconds),8} {Format(c.Recall),7} {Format(c.Precision),9} {c.AttackFlows,6} {c.Alerts,6}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"false alerts: {FalseAlerts} over {NormalVmHours:F3} normal VM-hours = {FalseAlertsPerVmHour:F3} per VM-hour");
        return sb.ToString();

        static string Format(double? v) => v is double d ? d.ToString("F3", CultureInfo.InvariantCulture) : "-";
    }

    /// <summary>Results for one attack class.</summary>
    /// <param name="Class">The class.</param>
    /// <param name="Attacks">Labelled attacks of this class.</param>
    /// <param name="Detected">True when at least one of them got a correct alert.</param>
    /// <param name="TimeToDetect">From the first attack's start to its first correct alert (the earliest over attacks of the class).</param>
    /// <param name="AttackFlows">Flows of the attacks.</param>
    /// <param name="DetectedFlows">Attack flows with an alert of the right class.</param>
    /// <param name="Alerts">Alerts of this class, on any flow.</param>
    /// <param name="CorrectAlerts">Alerts of this class on flows of an attack of this class.</param>
    public sealed record ClassResult(AttackClass Class, int Attacks, bool Detected, TimeSpan? TimeToDetect, long AttackFlows, long DetectedFlows, long Alerts, long CorrectAlerts)
    {
        /// <summary>Detected attack flows over attack flows (null without attack flows).</summary>
        public double? Recall => AttackFlows > 0 ? (double)DetectedFlows / AttackFlows : null;

        /// <summary>Correct alerts over alerts of the class (null without alerts).</summary>
        public double? Precision => Alerts > 0 ? (double)CorrectAlerts / Alerts : null;
    }
}
