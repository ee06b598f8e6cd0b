using Conduit.Net.Api.Admin;
using Conduit.Net.Api.Client;
using Conduit.Net.Api.Federation;
using Conduit.Net.Config;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Net.Api;

/// <summary>Every route group of the HTTP surface, mapped in one place.</summary>
public static class ApiRoutes
{
    public static void MapMatrixApi(this IEndpointRouteBuilder routes)
    {
        routes.MapVersions();
        routes.MapWellKnown();
        routes.MapServerKeys();

        // Without federation the federation and notary routes do not exist: 404 M_UNRECOGNIZED, as in Synapse.
        if (routes.ServiceProvider.GetRequiredService<ServerConfig>().AllowFederation)
        {
            routes.MapFederationVersion();
            routes.MapKeyQuery();
            routes.MapFederationProfile();
            routes.MapFederationPublicRooms();
            routes.MapFederationUserKeys();
            routes.MapOpenIdUserInfo();
            routes.MapFederationMembership();
            routes.MapFederationRoomReading();
            routes.MapFederationTransactions();
            routes.MapFederationHierarchy();
        }
        routes.MapRegistration();
        routes.MapLogin();
        routes.MapAccount();
        routes.MapDevices();
        routes.MapSharedSecretRegister();
        routes.MapProfile();
        routes.MapCapabilities();
        routes.MapFilters();
        routes.MapAccountData();
        routes.MapRoomCreation();
        routes.MapRoomSending();
        routes.MapRoomReading();
        routes.MapRoomMembership();
        routes.MapRoomMessages();
        routes.MapRoomDirectoryAliases();
        routes.MapReceipts();
        routes.MapTyping();
        routes.MapPresence();
        routes.MapRoomUpgrade();
        routes.MapRelations();
        routes.MapThreads();
        routes.MapPushRules();
        routes.MapSync();
        routes.MapToDevice();
        routes.MapKeyBackup();
        routes.MapDehydratedDevice();
        routes.MapRoomDirectoryListing();
        routes.MapUserDirectorySearch();
        routes.MapKeys();
        routes.MapCrossSigning();
        routes.MapOpenId();
        routes.MapSpaces();
    }
}
