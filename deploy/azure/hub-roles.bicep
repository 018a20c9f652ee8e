// IoT Hub data-plane roles for the BFF's identity, assigned on the hub itself (the hub may
// live in another resource group than Twinscope, hence a module scoped to the hub's).
param hubName string
param principalId string
@description('Role definition ids (GUIDs) of IoT Hub data-plane roles.')
param roles array

resource hub 'Microsoft.Devices/IotHubs@2023-06-30' existing = {
  name: hubName
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(hub.id, principalId, role)
    scope: hub
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]
