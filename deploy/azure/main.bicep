// Twinscope for a team on Azure Container Apps: two replicas of the console image behind
// HTTPS ingress, a user-assigned managed identity that reaches the IoT hub with Entra (no
// hub key), Azure Cache for Redis for shared sign-in sessions, and Azure Database for
// PostgreSQL for the audit trail, twin history and rollouts. Deploy into a resource group:
//
//   az deployment group create -g <group> -f deploy/azure/main.bicep -p @deploy/azure/main.parameters.json
//
// The IoT hub exists already (it may be in another resource group: `hubResourceGroup`).
// The README's "Deploying for a team" section walks through it, the Entra app included.

@description('Prefix of every resource name (letters, digits, hyphens; 3 to 16).')
@minLength(3)
@maxLength(16)
param name string = 'twinscope'

param location string = resourceGroup().location

@description('The console image, e.g. <registry>.azurecr.io/twinscope-console:0.1.0 (deploy/console/Containerfile).')
param image string

@description('The IoT hub Twinscope manages (its name), and its resource group.')
param hubName string
param hubResourceGroup string = resourceGroup().name

@description('The hub\'s built-in endpoint (Event Hub-compatible) connection string, for live changes; empty: polling only.')
@secure()
param eventsConnectionString string = ''

@description('The Entra app registration users sign in with (README: "Sign-in with Microsoft Entra ID").')
param entraTenantId string = subscription().tenantId
param entraClientId string
@secure()
param entraClientSecret string

@description('The PostgreSQL server\'s administrator password (the BFF connects as that administrator).')
@secure()
param postgresPassword string

@description('Signs the session cookie; 32 random characters or more.')
@secure()
@minLength(32)
param sessionSecret string

@description('IoT Hub data-plane roles for the BFF\'s identity. Data Contributor covers all Twinscope does (twins, identities, methods, C2D, configurations, jobs); the README\'s role table lists narrower ones.')
param hubRoles array = [
  '4fc6c259-987e-4a07-842e-c321cc9d413f' // IoT Hub Data Contributor
]

var postgresUser = 'twinscope'
var port = 8080

resource hub 'Microsoft.Devices/IotHubs@2023-06-30' existing = {
  name: hubName
  scope: resourceGroup(hubResourceGroup)
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-bff'
  location: location
}

module hubAccess 'hub-roles.bicep' = {
  name: '${name}-hub-roles'
  scope: resourceGroup(hubResourceGroup)
  params: {
    hubName: hubName
    principalId: identity.properties.principalId
    roles: hubRoles
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: '${name}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

// Traces and metrics (OpenTelemetry, README "Traces and metrics"): Application Insights on
// the same workspace as the logs, its connection string given to the app as a secret.
resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-insights'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource redis 'Microsoft.Cache/redis@2023-08-01' = {
  name: '${name}-sessions-${uniqueString(resourceGroup().id)}'
  location: location
  properties: {
    sku: { name: 'Basic', family: 'C', capacity: 0 }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: '${name}-db-${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresUser
    administratorLoginPassword: postgresPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 7, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: postgres
  name: 'twinscope'
}

// Container Apps reach the server over its public endpoint (TLS, password); put both in a
// virtual network instead where policy asks for it.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

var publicUrl = 'https://${name}.${environment.properties.defaultDomain}'

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [hubAccess, database, allowAzure]
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      ingress: {
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
      }
      secrets: concat(
        [
          { name: 'entra-client-secret', value: entraClientSecret }
          { name: 'session-secret', value: sessionSecret }
          {
            name: 'redis-url'
            value: 'rediss://:${redis.listKeys().primaryKey}@${redis.properties.hostName}:${redis.properties.sslPort}'
          }
          { name: 'insights-connection-string', value: insights.properties.ConnectionString }
          {
            name: 'database-url'
            value: 'postgresql://${postgresUser}:${uriComponent(postgresPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/twinscope?sslmode=require'
          }
        ],
        empty(eventsConnectionString) ? [] : [{ name: 'events-connection-string', value: eventsConnectionString }]
      )
    }
    template: {
      containers: [
        {
          name: 'console'
          image: image
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: concat(
            [
              { name: 'TWINSCOPE_HOST', value: '0.0.0.0' }
              { name: 'TWINSCOPE_PORT', value: string(port) }
              { name: 'TWINSCOPE_PUBLIC_URL', value: publicUrl }
              // Container Apps' ingress is the one proxy in front.
              { name: 'TWINSCOPE_TRUST_PROXY', value: '1' }
              { name: 'TWINSCOPE_HUB_HOST_NAME', value: hub.properties.hostName }
              { name: 'TWINSCOPE_HUB_CREDENTIAL', value: 'managed-identity' }
              { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
              { name: 'TWINSCOPE_AUTH_MODE', value: 'entra' }
              { name: 'TWINSCOPE_ENTRA_TENANT_ID', value: entraTenantId }
              { name: 'TWINSCOPE_ENTRA_CLIENT_ID', value: entraClientId }
              { name: 'TWINSCOPE_ENTRA_CLIENT_SECRET', secretRef: 'entra-client-secret' }
              { name: 'TWINSCOPE_SESSION_SECRET', secretRef: 'session-secret' }
              { name: 'TWINSCOPE_REDIS_URL', secretRef: 'redis-url' }
              { name: 'TWINSCOPE_DATABASE_URL', secretRef: 'database-url' }
              { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'insights-connection-string' }
              { name: 'OTEL_SERVICE_NAME', value: name }
            ],
            empty(eventsConnectionString)
              ? []
              : [{ name: 'TWINSCOPE_EVENTS_CONNECTION_STRING', secretRef: 'events-connection-string' }]
          )
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: port }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 2
              failureThreshold: 30
            }
          ]
        }
      ]
      // Two replicas always: a rolling update or a lost replica never leaves the team
      // without the console, and rollouts move to the replica still running.
      scale: { minReplicas: 2, maxReplicas: 2 }
    }
  }
}

output url string = publicUrl
output redirectUri string = '${publicUrl}/auth/callback'
output identityClientId string = identity.properties.clientId
