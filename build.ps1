#!/usr/bin/env pwsh
# Conduit.Net build script. Run through the pinned PowerShell tool:
#   dotnet tool restore
#   dotnet tool run pwsh build.ps1 <target>
# Targets:
#   build    Release build of the solution (warnings are errors)
#   test     the whole test suite (the README's `dotnet test`); extra arguments go to dotnet test
#   publish  self-contained single-file conduit-net for linux-x64 and linux-arm64 into artifacts/<rid>/,
#            then starts the linux-x64 binary and checks that it answers /_matrix/client/versions
#   bench    publishes conduit-net for this machine's RID, then runs Conduit.Net.Bench against that binary;
#            extra arguments go to the benchmark (--quick, --only NAME, --out PATH, --durability fast)

# A simple script on purpose (no CmdletBinding, no [Parameter]): an advanced one would take
# `--out` or `--filter` as its own (ambiguous or unknown) parameters instead of passing them on.
param(
    [ValidateSet('build', 'test', 'publish', 'bench')]
    [string] $Target = 'build'
)
$Rest = @($args)

$ErrorActionPreference = 'Stop'
# A failing dotnet (or any native command) stops the script with its exit code instead of carrying on.
$PSNativeCommandUseErrorActionPreference = $true
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Solution = Join-Path $Root 'Conduit.Net.slnx'
$ServerProject = Join-Path $Root 'Conduit.Net/Conduit.Net.csproj'
$BenchProject = Join-Path $Root 'Conduit.Net.Bench/Conduit.Net.Bench.csproj'
$Rids = @('linux-x64', 'linux-arm64')

function Invoke-Build {
    dotnet build $Solution --configuration Release
}

function Invoke-Test {
    Push-Location $Root
    try { dotnet test @Rest } finally { Pop-Location }
}

function Get-FreePort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { return $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# Starts a published binary on its embedded defaults (plus a free port and a scratch data directory),
# waits for /_matrix/client/versions to answer, then stops it with SIGTERM and expects exit code 0.
function Test-PublishedBinary([string] $Binary) {
    $port = Get-FreePort
    $data = Join-Path ([System.IO.Path]::GetTempPath()) "conduit-net-smoke-$([guid]::NewGuid().ToString('N'))"
    $start = [System.Diagnostics.ProcessStartInfo]::new($Binary)
    foreach ($name in @($start.Environment.Keys | Where-Object { $_ -like 'CONDUIT_*' })) { [void]$start.Environment.Remove($name) }
    $start.Environment['CONDUIT_PORT'] = "$port"
    $start.Environment['CONDUIT_DATABASE_PATH'] = $data
    $start.Environment['CONDUIT_LOG'] = 'warn'
    $process = [System.Diagnostics.Process]::Start($start)
    try {
        $url = "http://127.0.0.1:$port/_matrix/client/versions"
        $versions = $null
        for ($attempt = 0; $attempt -lt 300 -and -not $process.HasExited; $attempt++) {
            try { $versions = Invoke-RestMethod -Uri $url -TimeoutSec 5; break } catch { Start-Sleep -Milliseconds 100 }
        }
        if ($null -eq $versions) { throw "$Binary did not answer $url" }
        Write-Host "$Binary answered /_matrix/client/versions: $($versions.versions -join ', ')"

        kill -TERM $process.Id
        if (-not $process.WaitForExit(60000)) { throw "$Binary did not stop within a minute of SIGTERM" }
        if ($process.ExitCode -ne 0) { throw "$Binary exited with $($process.ExitCode) after SIGTERM" }
        Write-Host "$Binary stopped cleanly on SIGTERM"
    }
    finally {
        if (-not $process.HasExited) { $process.Kill() }
        Remove-Item -Recurse -Force -ErrorAction SilentlyContinue $data
    }
}

# Publishes the single self-contained binary for one RID into artifacts/<rid>/ and returns its path.
function Publish-Server([string] $Rid) {
    $out = Join-Path $Root "artifacts/$Rid"
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    dotnet publish $ServerProject --configuration Release --runtime $Rid --output $out | Out-Host
    $binary = Join-Path $out 'conduit-net'
    if (-not (Test-Path $binary)) { throw "publish for $Rid produced no $binary" }
    Write-Host ("{0}: {1:N1} MB" -f $binary, ((Get-Item $binary).Length / 1MB))
    return $binary
}

function Invoke-Publish {
    foreach ($rid in $Rids) { [void](Publish-Server $rid) }
    if ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64') {
        Test-PublishedBinary (Join-Path $Root 'artifacts/linux-x64/conduit-net')
    }
    else {
        Write-Host 'Not an x64 machine: the linux-x64 binary was built but not started.'
    }
}

# The benchmark measures what users run: the published Release binary for this machine, not a dotnet run.
function Invoke-Bench {
    $rid = switch ([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture) {
        'X64' { 'linux-x64' }
        'Arm64' { 'linux-arm64' }
        default { throw "No published RID for a $_ machine." }
    }
    $binary = Publish-Server $rid
    Push-Location $Root
    try { dotnet run --project $BenchProject --configuration Release -- --server $binary @Rest }
    finally { Pop-Location }
}

switch ($Target) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'publish' { Invoke-Publish }
    'bench' { Invoke-Bench }
}
