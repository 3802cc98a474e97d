export default { authToken: 'sntr@@yu_87f335a85dd706b52909774cdbcfb461e6a64e3c486fbd54baf84920049c3469' };
