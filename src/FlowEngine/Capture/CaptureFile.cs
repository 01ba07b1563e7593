// Copyright (c) FlowEngine contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.IO.Compression;

namespace FlowEngine.Capture;

/// <summary>Opens capture files.</summary>
public static class CaptureFile
{
    /// <summary>
    /// Opens a pcap or pcapng file, optionally gzip-compressed. The format is identified by magic bytes, never by the
    /// file name.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <returns>A reader; dispose it to release the file.</returns>
    /// <exception cref="CaptureFormatException">The file is empty, too short for its header, or of an unknown format.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static CaptureFileReader Open(string path, CaptureFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new CaptureFileOptions();
        options.Validate();
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        CaptureBuffer? input = null;
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int read = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                throw new CaptureFormatException(path, 0, "file is empty");
            }

            file.Position = 0;
            if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                input = CaptureBuffer.Decompress(new GZipStream(file, CompressionMode.Decompress, leaveOpen: false), options.DecompressionBufferBytes);
            }
            else if (options.Access == CaptureFileAccess.Buffered)
            {
                input = CaptureBuffer.Read(file, options.ReadBufferBytes);
            }
            else
            {
                input = CaptureBuffer.Map(file);
            }

            CaptureBuffer opened = input;
            input = null;
            try
            {
                return Create(path, opened, options);
            }
            catch
            {
                opened.Dispose();
                throw;
            }
        }
        catch
        {
            if (input is null)
            {
                file.Dispose();
            }
            else
            {
                input.Dispose();
            }

            throw;
        }
    }

    private static unsafe CaptureFileReader Create(string path, CaptureBuffer input, CaptureFileOptions options)
    {
        string what = input.IsCompressed ? "decompressed data" : "file";
        if (input.Available < 4)
        {
            throw new CaptureFormatException(path, 0, $"{what} is {input.Available} bytes long, too short for a capture file header");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(input.Current, 4));
        uint swapped = BinaryPrimitives.ReverseEndianness(magic);
        if (magic is PcapParser.MicrosecondMagic or PcapParser.NanosecondMagic || swapped is PcapParser.MicrosecondMagic or PcapParser.NanosecondMagic)
        {
            if (input.Available < PcapParser.FileHeaderLength)
            {
                throw new CaptureFormatException(path, 0, $"{what} is {input.Available} bytes long, too short for the {PcapParser.FileHeaderLength}-byte pcap header");
            }

            bool swap = swapped is PcapParser.MicrosecondMagic or PcapParser.NanosecondMagic;
            bool nanosecond = (swap ? swapped : magic) == PcapParser.NanosecondMagic;
            var parser = new PcapParser(input, options.MaxCapturedLength, swap != !BitConverter.IsLittleEndian, nanosecond);
            return new CaptureFileReader(path, CaptureFileFormat.Pcap, input, parser);
        }

        if (magic == PcapNgParser.SectionHeaderType)
        {
            if (input.Available < PcapNgParser.MinSectionHeaderLength)
            {
                throw new CaptureFormatException(path, 0, $"{what} is {input.Available} bytes long, too short for a pcapng section header block");
            }

            uint byteOrder = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(input.Current + 8, 4));
            if (byteOrder != PcapNgParser.ByteOrderMagic && byteOrder != BinaryPrimitives.ReverseEndianness(PcapNgParser.ByteOrderMagic))
            {
                throw new CaptureFormatException(path, 0, $"pcapng section header has byte-order magic 0x{byteOrder:x8} instead of 0x1a2b3c4d");
            }

            return new CaptureFileReader(path, CaptureFileFormat.PcapNg, input, new PcapNgParser(input, options.MaxCapturedLength));
        }

        throw new CaptureFormatException(path, 0, $"unknown capture format: {what} starts with 0x{magic:x8}, neither pcap nor pcapng");
    }
}
